+ cloudburst 0.1.0 .
PYTHONPATH+:=../..
MAYA_PLUG_IN_PATH+:=plug-ins
