"""An independent Bolt peer (the official neo4j Python driver) for interop tests.

  neo4j_peer.py query CYPHER [PARAMS_JSON]   run a statement, print the records as JSON (nodes as
                                             {"labels", "properties"}, floats kept apart from integers)
"""

import json
import os
import sys

from neo4j import GraphDatabase
from neo4j.graph import Node


def plain(value):
    if isinstance(value, Node):
        return {"labels": sorted(value.labels), "properties": {k: plain(v) for k, v in value.items()}}
    if isinstance(value, float):
        return {"float": value}
    if isinstance(value, list):
        return [plain(v) for v in value]
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    return value


def main():
    command = sys.argv[1]
    uri = os.environ.get("NEO4J_URI", "bolt://127.0.0.1:7687")
    auth = (os.environ.get("NEO4J_USER", "root"), os.environ.get("NEO4J_PASSWORD", "decode-async-dev"))
    with GraphDatabase.driver(uri, auth=auth) as driver:
        if command == "query":
            params = json.loads(sys.argv[3]) if len(sys.argv) > 3 else {}
            with driver.session() as session:
                records = [{k: plain(v) for k, v in r.items()} for r in session.run(sys.argv[2], params)]
            print(json.dumps(records))
        else:
            sys.exit("unknown command " + command)


if __name__ == "__main__":
    main()
