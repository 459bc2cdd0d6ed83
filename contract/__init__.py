"""The CDK-free contract every layer may import: the stage configuration, every physical name
and the AWS console links. It imports nothing else of this repo and never loads aws_cdk
(docs/architecture.md says why it is a package of its own).
"""
