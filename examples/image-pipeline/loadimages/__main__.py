"""loadimages: downloads every URL of `urls` and stores each image in the `incoming` bucket
under a fresh name; returns the names (the seed's loadimages, with boto3 instead of minio and
the standard library's urllib instead of requests)."""

import urllib.request

import s3store


def download_push(url, s3, bucket):
    with urllib.request.urlopen(url, timeout=30) as response:
        body = response.read()
        content_type = response.headers.get("Content-Type", "application/octet-stream")
    name = s3store.new_name()
    s3.put_object(Bucket=bucket, Key=name, Body=body, ContentType=content_type)
    return name


def main(args):
    urls = args.get("urls")
    if not isinstance(urls, list) or not urls:
        return {"error": "give the images as urls: a non-empty list of URLs"}
    bucket = args.get("incoming_bucket", "incoming")
    s3 = s3store.client(args)
    names = [download_push(url, s3, bucket) for url in urls]
    return {"names": names}
