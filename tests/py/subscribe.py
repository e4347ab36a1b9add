"""Live updates through Python `gql` with its WebSocket transport
(graphql-transport-ws): subscribes to `query`, prints "ready" once the
connection is acknowledged, then each result as one JSON line, until one
contains `marker` or `seconds` pass; an error ends it with a line naming
it. Usage: python subscribe.py http://127.0.0.1:PORT 'subscription {...}' MARKER [TOKEN] [SECONDS]
"""

import asyncio
import json
import sys

from gql import Client, gql
from gql.transport.exceptions import TransportQueryError
from gql.transport.websockets import WebsocketsTransport


async def follow(base, query, marker, token):
    transport = WebsocketsTransport(
        url=base.replace("http", "ws", 1) + "/graphql",
        init_payload={"Authorization": f"Bearer {token}"} if token else {},
        subprotocols=[WebsocketsTransport.GRAPHQLWS_SUBPROTOCOL],
    )
    async with Client(transport=transport) as session:
        print("ready", flush=True)
        try:
            async for result in session.subscribe(gql(query)):
                line = json.dumps(result, ensure_ascii=False)
                print(line, flush=True)
                if marker in line:
                    return
        except TransportQueryError as error:
            print(json.dumps({"failed": str(error)}, ensure_ascii=False), flush=True)


def main():
    base, query, marker = sys.argv[1:4]
    token = sys.argv[4] if len(sys.argv) > 4 and sys.argv[4] else None
    seconds = float(sys.argv[5]) if len(sys.argv) > 5 else 15
    try:
        asyncio.run(asyncio.wait_for(follow(base, query, marker, token), seconds))
    except asyncio.TimeoutError:
        print("timeout", flush=True)


if __name__ == "__main__":
    main()
