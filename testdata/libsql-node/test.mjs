// @libsql/client against a real `condo serve`, run by
// cmd/condo/libsql_node_e2e_test.go with:
//   LIBSQL_URL         the tenant's URL (http://127.0.0.1:PORT: the server's
//                      default tenant, see cmd/condo/libsql_harness_test.go)
//   LIBSQL_AUTH_TOKEN  a token with sql.read and sql.write
//   LIBSQL_READ_TOKEN  a token with sql.read only
//   LIBSQL_IDLE_MS     how long to wait for a stream to expire (default
//                      11000: the server's idle expiry is 10 s)
// The database starts empty of these tables; the tests run in order.
import { test, after } from "node:test";
import assert from "node:assert/strict";
import { createClient, LibsqlError } from "@libsql/client";

const url = process.env.LIBSQL_URL;
const authToken = process.env.LIBSQL_AUTH_TOKEN;
const readToken = process.env.LIBSQL_READ_TOKEN;
if (!url || !authToken || !readToken) {
  console.error("set LIBSQL_URL, LIBSQL_AUTH_TOKEN and LIBSQL_READ_TOKEN");
  process.exit(2);
}

const db = createClient({ url, authToken });
const big = createClient({ url, authToken, intMode: "bigint" });
const reader = createClient({ url, authToken: readToken });
after(() => {
  db.close();
  big.close();
  reader.close();
});

// count runs a SELECT count(*) AS n and returns n.
async function count(sql, args = []) {
  const rs = await db.execute({ sql, args });
  return rs.rows[0].n;
}

// A rejection that the client turned into a LibsqlError with a code, not
// a failed fetch or a protocol confusion.
function libsqlError(codePrefix = "") {
  return (e) => {
    assert.ok(e instanceof LibsqlError, `want a LibsqlError, got ${e}`);
    assert.ok(e.code.startsWith(codePrefix), `code ${e.code}, want ${codePrefix}...`);
    return true;
  };
}

test("execute with positional and named arguments", async () => {
  await db.execute("CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT NOT NULL UNIQUE, n INTEGER)");
  const ins = await db.execute({ sql: "INSERT INTO notes (body, n) VALUES (?, ?)", args: ["first", 1] });
  assert.equal(ins.rowsAffected, 1);
  assert.equal(ins.lastInsertRowid, 1n);
  for (const prefix of [":", "@", "$"]) {
    // The client sends the names as given; the server finds each prefix.
    await db.execute({ sql: `INSERT INTO notes (body, n) VALUES (${prefix}body, ${prefix}n)`, args: { body: prefix, n: 2 } });
  }
  const rs = await db.execute("SELECT id, body, n, n * 1.5 AS f, NULL AS empty FROM notes ORDER BY id");
  assert.deepEqual(rs.columns, ["id", "body", "n", "f", "empty"]);
  assert.deepEqual(rs.columnTypes.slice(0, 3), ["INTEGER", "TEXT", "INTEGER"]);
  assert.deepEqual(rs.rows.map((r) => [r.id, r.body, r.n, r.f, r.empty]), [
    [1, "first", 1, 1.5, null],
    [2, ":", 2, 3, null],
    [3, "@", 2, 3, null],
    [4, "$", 2, 3, null],
  ]);
  assert.equal(rs.rows[0][1], "first"); // rows are arrays too
  const upd = await db.execute("UPDATE notes SET n = n + 1 WHERE body <> 'first'");
  assert.equal(upd.rowsAffected, 3);
  assert.equal(upd.lastInsertRowid, undefined); // not an INSERT
});

test("a constraint error keeps its SQLite code", async () => {
  await assert.rejects(db.execute("INSERT INTO notes (body) VALUES ('first')"), libsqlError("SQLITE_CONSTRAINT"));
});

test("batch in write mode", async () => {
  const rs = await db.batch(
    [
      "CREATE TABLE b (x INTEGER)",
      { sql: "INSERT INTO b VALUES (?)", args: [1] },
      { sql: "INSERT INTO b VALUES (?)", args: [2] },
      "SELECT sum(x) AS s FROM b",
    ],
    "write",
  );
  assert.equal(rs.length, 4);
  assert.equal(rs[1].rowsAffected, 1);
  assert.equal(rs[3].rows[0].s, 3);
});

test("batch with a failing statement is rolled back whole", async () => {
  await assert.rejects(
    db.batch(
      [
        { sql: "INSERT INTO b VALUES (?)", args: [100] },
        "INSERT INTO notes (body) VALUES ('first')", // UNIQUE
        { sql: "INSERT INTO b VALUES (?)", args: [200] },
      ],
      "write",
    ),
    libsqlError("SQLITE_CONSTRAINT"),
  );
  assert.equal(await count("SELECT count(*) AS n FROM b WHERE x >= 100"), 0);
  // The lock went with the rollback: the next write goes through.
  await db.execute("INSERT INTO b VALUES (3)");
});

test("batch in read mode reads and never writes", async () => {
  const rs = await db.batch(["SELECT count(*) AS n FROM b", "SELECT max(x) AS m FROM b"], "read");
  assert.deepEqual([rs[0].rows[0].n, rs[1].rows[0].m], [3, 3]);
  // BEGIN TRANSACTION READONLY: SQLite alone would take READONLY for a
  // transaction's name; the server must make it read-only.
  await assert.rejects(db.batch([{ sql: "INSERT INTO b VALUES (?)", args: [7] }], "read"), libsqlError());
  assert.equal(await count("SELECT count(*) AS n FROM b WHERE x = 7"), 0);
});

test("batch in deferred mode, the default", async () => {
  const rs = await db.batch([{ sql: "INSERT INTO b VALUES (?)", args: [4] }, "SELECT count(*) AS n FROM b"], "deferred");
  assert.equal(rs[1].rows[0].n, 4);
  const def = await db.batch(["SELECT count(*) AS n FROM b"]);
  assert.equal(def[0].rows[0].n, 4);
});

test("transaction committed", async () => {
  const tx = await db.transaction("write");
  try {
    await tx.execute({ sql: "INSERT INTO notes (body) VALUES (?)", args: ["tx-1"] });
    await tx.batch([
      { sql: "INSERT INTO notes (body) VALUES (?)", args: ["tx-2"] },
      { sql: "INSERT INTO notes (body) VALUES (?)", args: ["tx-3"] },
    ]);
    const inside = await tx.execute("SELECT count(*) AS n FROM notes WHERE body LIKE 'tx-%'");
    assert.equal(inside.rows[0].n, 3);
    assert.equal(await count("SELECT count(*) AS n FROM notes WHERE body LIKE 'tx-%'"), 0, "uncommitted rows seen outside");
    await tx.commit();
  } finally {
    tx.close();
  }
  assert.equal(await count("SELECT count(*) AS n FROM notes WHERE body LIKE 'tx-%'"), 3);
});

test("transaction rolled back, and closed without a commit", async () => {
  const tx = await db.transaction("write");
  await tx.execute("INSERT INTO notes (body) VALUES ('rolled-back')");
  await tx.rollback();
  tx.close();
  const left = await db.transaction("write");
  await left.execute("INSERT INTO notes (body) VALUES ('left-open')");
  left.close(); // the server rolls back the stream's transaction
  // The closed transaction's write lock is free at once.
  await db.execute("INSERT INTO notes (body) VALUES ('after-close')");
  assert.equal(await count("SELECT count(*) AS n FROM notes WHERE body IN ('rolled-back', 'left-open')"), 0);
});

test("a read transaction refuses writes", async () => {
  const tx = await db.transaction("read");
  try {
    assert.equal((await tx.execute("SELECT count(*) AS n FROM b")).rows[0].n, 4);
    await assert.rejects(tx.execute("INSERT INTO b VALUES (8)"), libsqlError());
  } finally {
    tx.close();
  }
  assert.equal(await count("SELECT count(*) AS n FROM b WHERE x = 8"), 0);
});

test("executeMultiple runs a script and stops at its first error", async () => {
  await db.executeMultiple(`
    CREATE TABLE m (x INTEGER); -- a comment
    INSERT INTO m VALUES (1);
    INSERT INTO m VALUES (2);
  `);
  assert.equal(await count("SELECT count(*) AS n FROM m"), 2);
  await assert.rejects(
    db.executeMultiple("INSERT INTO m VALUES (3); INSERT INTO notes (body) VALUES ('first'); INSERT INTO m VALUES (4);"),
    libsqlError("SQLITE_CONSTRAINT"),
  );
  assert.deepEqual((await db.execute("SELECT x FROM m ORDER BY x")).rows.map((r) => r.x), [1, 2, 3]);
});

// migrate() sends PRAGMA foreign_keys=off before its BEGIN and never
// awaits that step: a server that refused the pragma would make every
// migrate() fail with an unhandled rejection. Condo allows it, as sqld
// does, for the stream that sends it.
test("migrate applies its statements in one transaction", async () => {
  const rs = await db.migrate([
    "CREATE TABLE parent (id INTEGER PRIMARY KEY)",
    "CREATE TABLE child (id INTEGER PRIMARY KEY, parent_id INTEGER REFERENCES parent (id))",
    "INSERT INTO parent VALUES (41)",
    "INSERT INTO child VALUES (1, 41)",
  ]);
  assert.equal(rs.length, 4);
  assert.equal(await count("SELECT count(*) AS n FROM child JOIN parent ON parent.id = child.parent_id"), 1);
  await assert.rejects(db.migrate(["CREATE TABLE half (x)", "INSERT INTO nowhere VALUES (1)"]), libsqlError("SQLITE_ERROR"));
  assert.equal(await count("SELECT count(*) AS n FROM sqlite_master WHERE name = 'half'"), 0);
});

test("migrate runs with foreign keys off, as sqld lets it", async () => {
  // migrate() sends PRAGMA foreign_keys=off before its BEGIN and =on after
  // the COMMIT, so a migration may reorder tables that reference others.
  await db.migrate([
    "CREATE TABLE child2 (id INTEGER PRIMARY KEY, parent_id INTEGER REFERENCES parent2 (id))",
    "INSERT INTO child2 VALUES (1, 42)", // no parent 42 yet: fine while foreign keys are off
    "CREATE TABLE parent2 (id INTEGER PRIMARY KEY)",
    "INSERT INTO parent2 VALUES (42)",
  ]);
  assert.equal(await count("SELECT count(*) AS n FROM child2 JOIN parent2 ON parent2.id = child2.parent_id"), 1);
  // And they are on again for everyone after it.
  await assert.rejects(db.execute("INSERT INTO child2 VALUES (2, 43)"), libsqlError("SQLITE_CONSTRAINT"));
});

test("blobs from Uint8Array and ArrayBuffer", async () => {
  const bytes = new Uint8Array([0, 1, 2, 253, 254, 255, 7]); // 7 bytes: base64 needs padding
  await db.execute("CREATE TABLE blobs (id INTEGER PRIMARY KEY, b BLOB)");
  await db.execute({ sql: "INSERT INTO blobs (b) VALUES (?)", args: [bytes] });
  await db.execute({ sql: "INSERT INTO blobs (b) VALUES (?)", args: [bytes.buffer.slice(1, 4)] });
  await db.execute({ sql: "INSERT INTO blobs (b) VALUES (?)", args: [new Uint8Array(0)] });
  const rs = await db.execute("SELECT b, hex(b) AS hex, typeof(b) AS t FROM blobs ORDER BY id");
  assert.deepEqual(rs.rows.map((r) => [r.hex, r.t]), [
    ["000102FDFEFF07", "blob"],
    ["0102FD", "blob"],
    ["", "blob"],
  ]);
  assert.ok(rs.rows[0].b instanceof ArrayBuffer);
  assert.deepEqual(new Uint8Array(rs.rows[0].b), bytes);
  assert.deepEqual(new Uint8Array(rs.rows[1].b), bytes.slice(1, 4));
  assert.equal(rs.rows[2].b.byteLength, 0);
});

test("bigints with intMode bigint", async () => {
  const values = [9007199254740993n, 9223372036854775807n, -9223372036854775808n, 0n];
  await big.execute("CREATE TABLE bigs (id INTEGER PRIMARY KEY, i INTEGER)");
  for (const v of values) {
    await big.execute({ sql: "INSERT INTO bigs (i) VALUES (?)", args: [v] });
  }
  const rs = await big.execute("SELECT id, i, typeof(i) AS t, i = CAST(? AS INTEGER) AS exact FROM bigs ORDER BY id", ["9007199254740993"]);
  assert.deepEqual(rs.rows.map((r) => r.i), values);
  assert.deepEqual(rs.rows.map((r) => r.t), ["integer", "integer", "integer", "integer"]);
  assert.equal(rs.rows[0].exact, 1n);
  assert.equal(typeof rs.rows[0].id, "bigint");
  // In the default number mode, an integer a double cannot hold is refused,
  // never rounded.
  await assert.rejects(db.execute("SELECT i FROM bigs WHERE id = 1"), RangeError);
  // JS numbers go as floats; booleans as integers.
  const vals = await db.execute({ sql: "SELECT ? AS f, typeof(?) AS tf, ? AS t, typeof(?) AS tt", args: [2.5, 2.5, true, true] });
  assert.deepEqual([vals.rows[0].f, vals.rows[0].tf, vals.rows[0].t, vals.rows[0].tt], [2.5, "real", 1, "integer"]);
});

test("concurrent batches and transactions take turns at the write lock", async () => {
  await db.execute("CREATE TABLE hits (worker INTEGER, k INTEGER)");
  const work = Array.from({ length: 8 }, async (_, w) => {
    for (let k = 0; k < 5; k++) {
      if (w % 2 === 0) {
        await db.batch([{ sql: "INSERT INTO hits VALUES (?, ?)", args: [w, k] }], "write");
      } else {
        const tx = await db.transaction("write");
        try {
          await tx.execute({ sql: "INSERT INTO hits VALUES (?, ?)", args: [w, k] });
          await tx.commit();
        } finally {
          tx.close();
        }
      }
    }
  });
  await Promise.all(work);
  assert.equal(await count("SELECT count(*) AS n FROM hits"), 40);
});

test("a read-only token reads and never writes", async () => {
  const before = await count("SELECT count(*) AS n FROM notes");
  assert.equal((await reader.execute("SELECT count(*) AS n FROM notes")).rows[0].n, before);
  await assert.rejects(reader.execute("INSERT INTO notes (body) VALUES ('by-a-reader')"), libsqlError());
  await assert.rejects(reader.batch(["INSERT INTO notes (body) VALUES ('by-a-reader')"], "write"), libsqlError());
  await assert.rejects(reader.executeMultiple("DELETE FROM notes; DROP TABLE notes;"), libsqlError());
  assert.equal(await count("SELECT count(*) AS n FROM notes"), before);
  // Still a good client after the refusals.
  assert.equal((await reader.execute("SELECT count(*) AS n FROM notes")).rows[0].n, before);
});

test("a transaction whose stream expired says so, and the client goes on", async () => {
  const tx = await db.transaction("write");
  await tx.execute("INSERT INTO notes (body) VALUES ('in-expired-tx')");
  await new Promise((r) => setTimeout(r, Number(process.env.LIBSQL_IDLE_MS ?? 11000)));
  await assert.rejects(tx.execute("SELECT 1"), libsqlError("STREAM_EXPIRED"));
  tx.close();
  assert.equal(await count("SELECT count(*) AS n FROM notes WHERE body = 'in-expired-tx'"), 0);
  await db.execute("INSERT INTO notes (body) VALUES ('after-expiry')"); // the lock went with the stream
});
