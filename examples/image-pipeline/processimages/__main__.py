"""processimages: for every name in `names`, reads the image from the `incoming` bucket, sends
it through the OpenFaaS function `convertbw` (POST {gateway}/function/convertbw, the image bytes
in, the grayscale image out) and stores the answer in the `processed` bucket under a fresh name;
returns the processed names, in order (the seed's processimages, with boto3 and urllib)."""

import urllib.request

import s3store


def convert(gateway, image):
    request = urllib.request.Request(
        gateway.rstrip("/") + "/function/convertbw",
        data=image,
        method="POST",
        headers={"Content-Type": "application/octet-stream"},
    )
    with urllib.request.urlopen(request, timeout=60) as response:
        return response.read()


def convert_push(name, s3, gateway, source_bucket, dest_bucket):
    source = s3.get_object(Bucket=source_bucket, Key=name)
    image = source["Body"].read()
    converted = convert(gateway, image)
    if not converted:
        raise RuntimeError(f"convertbw answered nothing for {name}")
    dest_name = s3store.new_name()
    s3.put_object(
        Bucket=dest_bucket,
        Key=dest_name,
        Body=converted,
        ContentType=source.get("ContentType", "application/octet-stream"),
    )
    return dest_name


def main(args):
    names = args.get("names")
    if not isinstance(names, list) or not names:
        return {"error": "give the images to convert as names: a non-empty list of object names"}
    gateway = args.get("gateway")
    if not gateway:
        return {"error": "give the gateway's URL as gateway (where /function/convertbw is)"}
    source_bucket = args.get("incoming_bucket", "incoming")
    dest_bucket = args.get("processed_bucket", "processed")
    s3 = s3store.client(args)
    processed = [convert_push(n, s3, gateway, source_bucket, dest_bucket) for n in names]
    return {"names": processed, "from": names}
