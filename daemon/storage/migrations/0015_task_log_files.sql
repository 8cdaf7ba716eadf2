-- Task logs are files in the data folder (daemon/storage/task_logs.py); the Python step of
-- this migration (migrations/steps.py) has written each attempt's rows to its file.
DROP TABLE task_logs;
