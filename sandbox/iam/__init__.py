"""AWS calls as IAM sees them: the recorder (recorder.py) and the action/ARN mapping (actions.py)."""
