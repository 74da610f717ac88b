"""updateInventory: the stock-keeping action of the seed's OpenWhisk walkthrough, on Redis.

The seed keeps stock in MongoDB with `find_one_and_update({'product_id': id},
{'$inc': {'count': stock_change}}, upsert=True, return_document=AFTER)`. Here the same atomic
increment-with-upsert is Redis's HINCRBY on the hash `inventory`: a missing product starts at 0,
and the answer is the count after the change.

Parameters: `product_id`, `stock_change` (from the trigger and the fire), and `redis_url`
(a default parameter of the action, e.g. redis://127.0.0.1:6379/0). The `redis` client library
is vendored into the action's zip by build.sh.
"""

import redis

# One client per URL, kept while the container stays warm (as the seed keeps its MongoClient).
_clients = {}


def inventory(url):
    client = _clients.get(url)
    if client is None:
        client = redis.Redis.from_url(url, decode_responses=True)
        _clients[url] = client
    return client


def main(params):
    product_id = params["product_id"]
    stock_change = int(params["stock_change"])
    db = inventory(params.get("redis_url", "redis://127.0.0.1:6379/0"))

    count = db.hincrby("inventory", str(product_id), stock_change)

    return {
        "product_id": product_id,
        "count": count,
    }
