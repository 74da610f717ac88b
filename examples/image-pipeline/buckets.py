"""The walkthrough's object-store chores with the same boto3 client the actions use (the seed
used the Minio client `mc`):

    python3 buckets.py make BUCKET...         create the buckets (an existing one is fine)
    python3 buckets.py list BUCKET            print the bucket's object names, one a line
    python3 buckets.py get BUCKET NAME FILE   download one object into FILE

The server and keys come from S3_ENDPOINT, S3_ACCESS_KEY and S3_SECRET_KEY; boto3 from PYTHONPATH
(build/lib after build.sh)."""

import os
import sys

import s3store


def main(argv):
    s3 = s3store.client(
        {
            "s3_endpoint": os.environ["S3_ENDPOINT"],
            "s3_access_key": os.environ["S3_ACCESS_KEY"],
            "s3_secret_key": os.environ["S3_SECRET_KEY"],
        }
    )
    command, rest = argv[1], argv[2:]
    if command == "make":
        existing = {b["Name"] for b in s3.list_buckets().get("Buckets", [])}
        for bucket in rest:
            if bucket not in existing:
                s3.create_bucket(Bucket=bucket)
    elif command == "list":
        paginator = s3.get_paginator("list_objects_v2")
        for page in paginator.paginate(Bucket=rest[0]):
            for item in page.get("Contents", []):
                print(item["Key"])
    elif command == "get":
        bucket, name, path = rest
        with open(path, "wb") as file:
            file.write(s3.get_object(Bucket=bucket, Key=name)["Body"].read())
    else:
        sys.exit(f"unknown command {command}: make, list or get")


if __name__ == "__main__":
    main(sys.argv)
