"""json_workload: a Python program doing JSON work, the way a web service or a data script does.

Builds a list of records (dicts of strings, numbers, nested lists), then ROUNDS times: serializes it with
json.dumps, parses it back with json.loads, transforms the parsed records (filter, sort, string building,
a dict index) and checks the round trip. Large strings and the JSON text buffers come from malloc; small
objects come from pymalloc's arenas, which themselves come from malloc/mmap, so this is what an allocator
does for a real Python process, not an allocator micro-benchmark.

usage: python3 json_workload.py [rounds=5] [records=4000]
"""
import json
import random
import sys


def make_records(rng, n):
    words = ["alpha", "bravo", "charlie", "delta", "echo", "foxtrot", "golf", "hotel", "india", "juliet"]
    records = []
    for i in range(n):
        records.append({
            "id": i,
            "name": " ".join(rng.choice(words) for _ in range(rng.randint(1, 6))),
            "score": rng.random() * 1000,
            "tags": [rng.choice(words) for _ in range(rng.randint(0, 8))],
            "active": rng.random() < 0.7,
            "address": {"street": f"{rng.randint(1, 9999)} {rng.choice(words).title()} St",
                        "zip": f"{rng.randint(0, 99999):05d}"},
            "history": [rng.randint(0, 1 << 20) for _ in range(rng.randint(0, 20))],
            "note": "x" * rng.randint(0, 2000),
        })
    return records


def main():
    rounds = int(sys.argv[1]) if len(sys.argv) > 1 else 5
    count = int(sys.argv[2]) if len(sys.argv) > 2 else 4000
    rng = random.Random(12345)
    records = make_records(rng, count)
    check = 0
    for r in range(rounds):
        text = json.dumps(records, indent=None if r % 2 else 1, sort_keys=bool(r % 3))
        parsed = json.loads(text)
        if parsed != records:
            sys.exit(f"FAIL: json round trip {r} changed the data")
        active = [p for p in parsed if p["active"]]
        active.sort(key=lambda p: (p["score"], p["id"]))
        index = {p["name"] + "/" + str(p["id"]): p for p in active}
        summary = ";".join(f'{p["id"]}:{len(p["tags"])}:{sum(p["history"])}' for p in active[:2000])
        check = (check * 31 + len(text) + len(index) + len(summary)) & 0xFFFFFFFF
        records = parsed  # the next round works on the freshly parsed objects; the old ones are freed
    print(f"ok python-json rounds={rounds} records={count} check={check:x}")


if __name__ == "__main__":
    main()
