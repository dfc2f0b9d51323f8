-- sqlite-insert: bulk inserts with the sqlite3 command-line shell, in an in-memory database.
--
-- Run as: sqlite3 -bail :memory: ".read bulk_insert.sql". Inserts 100,000 rows of generated text in one
-- transaction into a table with two secondary indexes, then updates and deletes a slice and checks the result.
-- Every page of an in-memory database is a malloc'd block, and each row goes through the parser's and the
-- B-tree's temporary allocations. A wrong count stops the run: json('...') on invalid text raises an error,
-- and -bail turns that into a non-zero exit.
PRAGMA cache_size = -65536;
CREATE TABLE item (id INTEGER PRIMARY KEY, name TEXT NOT NULL, category INTEGER, price REAL, payload TEXT);
CREATE INDEX item_name ON item(name);
CREATE INDEX item_category ON item(category, price);

BEGIN;
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 100000)
INSERT INTO item (id, name, category, price, payload)
SELECT i,
       printf('item-%08x-%s', (i * 2654435761) % 4294967296, substr('abcdefghijklmnopqrstuvwxyz', 1 + i % 26, 1 + i % 11)),
       (i * 7919) % 97,
       ((i * 104729) % 100000) / 100.0,
       hex(zeroblob(8 + (i * 31) % 120))
FROM n;
COMMIT;

BEGIN;
UPDATE item SET payload = payload || name, price = price * 1.1 WHERE category % 5 = 0;
DELETE FROM item WHERE category = 13;
COMMIT;

SELECT CASE WHEN (SELECT count(*) FROM item) = 100000 - (SELECT count(*) FROM (
           WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 100000)
           SELECT i FROM n WHERE (i * 7919) % 97 = 13))
       THEN 'ok sqlite-insert rows=' || (SELECT count(*) FROM item)
       ELSE json('FAIL: wrong row count') END;
SELECT CASE WHEN (SELECT count(DISTINCT name) FROM item) = (SELECT count(*) FROM item)
       THEN 'ok sqlite-insert names unique'
       ELSE json('FAIL: duplicate names') END;
