"""The object store of the image pipeline: a boto3 S3 client for an S3-compatible server
(path-style addressing; checksums only where the API requires them, so servers that do not
implement the newer flexible checksums accept the requests). Copied into both actions' zips."""

import uuid

import boto3
from botocore.config import Config


def client(args):
    """An S3 client from the action's parameters: s3_endpoint, s3_access_key, s3_secret_key."""
    return boto3.client(
        "s3",
        endpoint_url=args["s3_endpoint"],
        aws_access_key_id=args["s3_access_key"],
        aws_secret_access_key=args["s3_secret_key"],
        region_name=args.get("s3_region", "us-east-1"),
        config=Config(
            s3={"addressing_style": "path"},
            request_checksum_calculation="when_required",
            response_checksum_validation="when_required",
            retries={"max_attempts": 2, "mode": "standard"},
            connect_timeout=5,
            read_timeout=30,
        ),
    )


def new_name():
    """A fresh object name (a uuid, as in the seed's get_temp_file)."""
    return str(uuid.uuid4())
