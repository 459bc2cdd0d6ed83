"""Logic shared by the Lambda handlers: plain functions over plain data, boto3 clients via aws.py."""
