// Rows through the Node SDK: every attribute type, row conditions, update
// operations, versions and time ranges, BatchWriteRow, GetRange paging both
// ways, service errors (exact status, code and message) and auth.
'use strict';
const { describe, it, before, after } = require('node:test');
const assert = require('node:assert/strict');
const { startEmulator } = require('../lib/emulator');
const {
  TableStore, Long, newClient, call, uniqueName, createTable, expectServiceError, ignore, attrs, attrsNoTs, pk,
} = require('../lib/sdk');

const { RowExistenceExpectation: RE } = TableStore;
const cond = (e) => new TableStore.Condition(e, null);
const T0 = Date.now() - 60 * 60 * 1000; // versions an hour ago, inside the 1-day deviation

describe('rows', () => {
  let emu;
  let client;
  let table;
  let versioned;
  before(async () => {
    emu = await startEmulator();
    client = newClient(emu);
    table = await createTable(client, uniqueName('rows'), [{ name: 'pk', type: 'STRING' }]);
    versioned = await createTable(client, uniqueName('versions'),
      [{ name: 'gid', type: 'INTEGER' }, { name: 'uid', type: 'INTEGER' }], { maxVersions: 10 });
  });
  after(async () => {
    await emu.stop();
  });

  const get = (key, extra = {}) => call(client, 'getRow', { tableName: table, primaryKey: [{ pk: key }], ...extra });
  const vget = (gid, uid, extra = {}) => call(client, 'getRow', {
    tableName: versioned, primaryKey: [{ gid: Long.fromNumber(gid) }, { uid: Long.fromNumber(uid) }], maxVersions: 10, ...extra,
  });

  it('puts and reads back every attribute type exactly', async () => {
    await call(client, 'putRow', {
      tableName: table, condition: ignore(), primaryKey: [{ pk: 'types' }],
      attributeColumns: [
        { s: 'héllo' }, { empty: '' }, { i: Long.fromString('-9223372036854775808') }, { d: -0.5 }, { whole: 3 },
        { t: true }, { f: false }, { b: Buffer.from([0, 1, 255]) },
      ],
    });
    const { row } = await get('types');
    assert.deepEqual(pk(row), [['pk', 'types']]);
    assert.deepEqual(attrsNoTs(row), [
      ['b', 'hex:0001ff'], ['d', -0.5], ['empty', ''], ['f', false], ['i', 'long:-9223372036854775808'],
      ['s', 'héllo'], ['t', true], ['whole', 3],
    ]);
  });

  it('a missing row reads as an empty row', async () => {
    const data = await get('never-written');
    assert.deepEqual(data.row, {});
  });

  it('row existence conditions: EXPECT_NOT_EXIST and EXPECT_EXIST', async () => {
    const put = (e, v) => call(client, 'putRow', {
      tableName: table, condition: cond(e), primaryKey: [{ pk: 'cond' }], attributeColumns: [{ v }],
    });
    await put(RE.EXPECT_NOT_EXIST, 'first');
    await expectServiceError(put(RE.EXPECT_NOT_EXIST, 'second'), 403, 'OTSConditionCheckFail', 'Condition check failed.');
    await put(RE.EXPECT_EXIST, 'third');
    assert.deepEqual(attrsNoTs((await get('cond')).row), [['v', 'third']]);
    await expectServiceError(call(client, 'updateRow', {
      tableName: table, condition: cond(RE.EXPECT_EXIST), primaryKey: [{ pk: 'absent' }],
      updateOfAttributeColumns: [{ PUT: [{ v: 1 }] }],
    }), 403, 'OTSConditionCheckFail', 'Condition check failed.');
    await expectServiceError(call(client, 'deleteRow', {
      tableName: table, condition: cond(RE.EXPECT_EXIST), primaryKey: [{ pk: 'absent' }],
    }), 403, 'OTSConditionCheckFail', 'Condition check failed.');
    assert.deepEqual((await get('absent')).row, {});
  });

  it('updateRow PUT with explicit timestamps keeps every version (multiVersion.js cells, zero-padded row)', async () => {
    for (let i = 0; i < 3; i++) {
      await call(client, 'updateRow', {
        tableName: versioned, condition: ignore(), primaryKey: [{ gid: Long.fromNumber(1) }, { uid: Long.fromNumber(1) }],
        updateOfAttributeColumns: [{ PUT: [{ col: `v${i}`, timestamp: Long.fromNumber(T0 + i) }] }],
      });
    }
    assert.deepEqual(attrs((await vget(1, 1)).row), [['col', 'v2', T0 + 2], ['col', 'v1', T0 + 1], ['col', 'v0', T0]]);
    // maxVersions and time ranges select versions.
    assert.deepEqual(attrs((await vget(1, 1, { maxVersions: 1 })).row), [['col', 'v2', T0 + 2]]);
    assert.deepEqual(attrs((await vget(1, 1, { timeRange: { startTime: String(T0), endTime: String(T0 + 2) } })).row),
      [['col', 'v1', T0 + 1], ['col', 'v0', T0]]);
    assert.deepEqual(attrs((await vget(1, 1, { timeRange: { specificTime: String(T0 + 1) } })).row), [['col', 'v1', T0 + 1]]);
  });

  it('updateRow DELETE of one version, DELETE_ALL and INCREMENT (updateRow.js cells, zero-padded row)', async () => {
    const key = [{ gid: Long.fromNumber(2) }, { uid: Long.fromNumber(2) }];
    await call(client, 'updateRow', {
      tableName: versioned, condition: ignore(), primaryKey: key,
      updateOfAttributeColumns: [{ PUT: [
        { a: 'a0', timestamp: Long.fromNumber(T0) }, { a: 'a1', timestamp: Long.fromNumber(T0 + 1) },
        { b: 'b0', timestamp: Long.fromNumber(T0) }, { n: Long.fromNumber(40), timestamp: Long.fromNumber(T0) },
      ] }],
    });
    await call(client, 'updateRow', {
      tableName: versioned, condition: cond(RE.EXPECT_EXIST), primaryKey: key,
      updateOfAttributeColumns: [
        { DELETE: [{ a: Long.fromNumber(T0 + 1) }] },
        { DELETE_ALL: ['b'] },
        { INCREMENT: [{ n: Long.fromNumber(2) }] },
      ],
    });
    const { row } = await vget(2, 2, { maxVersions: 1 });
    assert.deepEqual(attrs(row).map(([n, v]) => [n, v]), [['a', 'a0'], ['n', 'long:42']]);
    assert.equal(attrs(row)[0][2], T0);
  });

  it('batchWriteRow with the same padded cells: PUT with timestamps, DELETE one version, DELETE row', async () => {
    const key = (u) => [{ gid: Long.fromNumber(3) }, { uid: Long.fromNumber(u) }];
    const data = await call(client, 'batchWriteRow', {
      tables: [{
        tableName: versioned,
        rows: [
          { type: 'UPDATE', condition: ignore(), primaryKey: key(1),
            attributeColumns: [{ PUT: [{ c: 'x', timestamp: Long.fromNumber(T0) }, { c: 'y', timestamp: Long.fromNumber(T0 + 5) }] }] },
          { type: 'PUT', condition: ignore(), primaryKey: key(2), attributeColumns: [{ c: 'z', timestamp: Long.fromNumber(T0) }] },
          { type: 'PUT', condition: ignore(), primaryKey: key(3), attributeColumns: [{ c: 'gone' }] },
        ],
      }],
    });
    assert.deepEqual(data.tables.map((r) => [r.tableName, r.isOk]), [[versioned, true], [versioned, true], [versioned, true]]);
    const second = await call(client, 'batchWriteRow', {
      tables: [{
        tableName: versioned,
        rows: [
          { type: 'UPDATE', condition: ignore(), primaryKey: key(1), attributeColumns: [{ DELETE: [{ c: Long.fromNumber(T0 + 5) }] }] },
          { type: 'DELETE', condition: ignore(), primaryKey: key(3) },
          { type: 'PUT', condition: cond(RE.EXPECT_NOT_EXIST), primaryKey: key(2), attributeColumns: [{ c: 'no' }] },
        ],
      }],
    });
    assert.deepEqual(second.tables.map((r) => [r.isOk, r.errorCode || null]), [[true, null], [true, null], [false, 'OTSConditionCheckFail']]);
    assert.equal(second.tables[2].errorMessage, 'Condition check failed.');
    assert.deepEqual(attrs((await vget(3, 1)).row), [['c', 'x', T0]]);
    assert.deepEqual(attrs((await vget(3, 2)).row), [['c', 'z', T0]]);
    assert.deepEqual((await vget(3, 3)).row, {});
  });

  describe('getRange paging', () => {
    let ranged;
    before(async () => {
      ranged = await createTable(client, uniqueName('range'), [{ name: 'gid', type: 'INTEGER' }, { name: 'uid', type: 'INTEGER' }]);
      const rows = [];
      for (let g = 0; g < 3; g++) {
        for (let u = 0; u < 4; u++) {
          rows.push({ type: 'PUT', condition: ignore(), primaryKey: [{ gid: Long.fromNumber(g) }, { uid: Long.fromNumber(u) }],
            attributeColumns: [{ v: Long.fromNumber(g * 10 + u) }] });
        }
      }
      await call(client, 'batchWriteRow', { tables: [{ tableName: ranged, rows }] });
    });
    const bound = (g, u) => [{ gid: g }, { uid: u }];
    async function scan(direction, start, end, limit) {
      const pages = [];
      let from = start;
      for (;;) {
        const data = await call(client, 'getRange', {
          tableName: ranged, direction, maxVersions: 1, limit, inclusiveStartPrimaryKey: from, exclusiveEndPrimaryKey: end,
        });
        pages.push(data.rows.map((r) => pk(r).map(([, v]) => Number(v.slice(5)))));
        if (!data.nextStartPrimaryKey) return pages;
        from = data.nextStartPrimaryKey.map((c) => ({ [c.name]: c.value }));
      }
    }
    it('forward from INF_MIN to INF_MAX, 5 rows a page', async () => {
      const pages = await scan(TableStore.Direction.FORWARD, bound(TableStore.INF_MIN, TableStore.INF_MIN),
        bound(TableStore.INF_MAX, TableStore.INF_MAX), 5);
      assert.deepEqual(pages.map((p) => p.length), [5, 5, 2]);
      assert.deepEqual(pages.flat(), [[0, 0], [0, 1], [0, 2], [0, 3], [1, 0], [1, 1], [1, 2], [1, 3], [2, 0], [2, 1], [2, 2], [2, 3]]);
    });
    it('backward from INF_MAX to INF_MIN, 5 rows a page', async () => {
      const pages = await scan(TableStore.Direction.BACKWARD, bound(TableStore.INF_MAX, TableStore.INF_MAX),
        bound(TableStore.INF_MIN, TableStore.INF_MIN), 5);
      assert.deepEqual(pages.flat(), [[2, 3], [2, 2], [2, 1], [2, 0], [1, 3], [1, 2], [1, 1], [1, 0], [0, 3], [0, 2], [0, 1], [0, 0]]);
    });
    it('a bounded range: gid 1 only, start inclusive, end exclusive', async () => {
      const pages = await scan(TableStore.Direction.FORWARD, bound(Long.fromNumber(1), Long.fromNumber(1)),
        bound(Long.fromNumber(1), TableStore.INF_MAX), 2);
      assert.deepEqual(pages.flat(), [[1, 1], [1, 2], [1, 3]]);
    });
    it('start after end in FORWARD is OTSParameterInvalid', async () => {
      await expectServiceError(call(client, 'getRange', {
        tableName: ranged, direction: TableStore.Direction.FORWARD, maxVersions: 1,
        inclusiveStartPrimaryKey: bound(TableStore.INF_MAX, TableStore.INF_MAX), exclusiveEndPrimaryKey: bound(TableStore.INF_MIN, TableStore.INF_MIN),
      }), 400, 'OTSParameterInvalid', 'Begin key must less than end key in FORWARD');
    });
  });

  describe('errors', () => {
    it('unknown table is 404 OTSObjectNotExist', async () => {
      await expectServiceError(call(client, 'getRow', { tableName: 'no_such_table', primaryKey: [{ pk: 'a' }] }),
        404, 'OTSObjectNotExist', 'Requested table does not exist.');
      await expectServiceError(call(client, 'describeTable', { tableName: 'no_such_table' }),
        404, 'OTSObjectNotExist', 'Requested table does not exist.');
    });
    it('creating an existing table is 409 OTSObjectAlreadyExist', async () => {
      await expectServiceError(createTable(client, table, [{ name: 'pk', type: 'STRING' }]),
        409, 'OTSObjectAlreadyExist', 'Requested table already exists.');
    });
    it('primary key mismatches are 400 OTSInvalidPK', async () => {
      await expectServiceError(call(client, 'putRow', { tableName: table, condition: ignore(), primaryKey: [{ other: 'a' }], attributeColumns: [{ v: 1 }] }),
        400, 'OTSInvalidPK', 'Validate PK name fail. Input: other, Meta: pk.');
      await expectServiceError(call(client, 'putRow', { tableName: table, condition: ignore(), primaryKey: [{ pk: Long.fromNumber(1) }], attributeColumns: [{ v: 1 }] }),
        400, 'OTSInvalidPK', 'Validate PK type fail. Input: VT_INTEGER, Meta: VT_STRING.');
      await expectServiceError(call(client, 'getRow', { tableName: versioned, primaryKey: [{ gid: Long.fromNumber(1) }] }),
        400, 'OTSInvalidPK', 'Validate PK size fail. Input: 1, Meta: 2.');
    });
    it('an increment of a STRING column is 400 OTSParameterInvalid', async () => {
      await call(client, 'putRow', { tableName: table, condition: ignore(), primaryKey: [{ pk: 'inc' }], attributeColumns: [{ s: 'x' }] });
      await expectServiceError(call(client, 'updateRow', {
        tableName: table, condition: ignore(), primaryKey: [{ pk: 'inc' }], updateOfAttributeColumns: [{ INCREMENT: [{ s: Long.fromNumber(1) }] }],
      }), 400, 'OTSParameterInvalid', "Increment on column 's' of type STRING is not allowed; it must be INTEGER.");
    });
  });

  describe('auth', () => {
    it('a wrong secret, an unknown AccessKeyID and a wrong instance are 403 OTSAuthFailed', async () => {
      const cases = [
        [{ secretAccessKey: 'wrong-secret' }, 'Signature mismatch.'],
        [{ accessKeyId: 'unknown-ak' }, 'The AccessKeyID does not exist.'],
        [{ instancename: 'nope' }, "The instance 'nope' is not found."],
      ];
      for (const [overrides, message] of cases) {
        const bad = newClient(emu, overrides);
        await expectServiceError(call(bad, 'listTable', {}), 403, 'OTSAuthFailed', message);
        await expectServiceError(call(bad, 'putRow', { tableName: table, condition: ignore(), primaryKey: [{ pk: 'auth' }], attributeColumns: [{ v: 1 }] }),
          403, 'OTSAuthFailed', message);
      }
      assert.deepEqual((await get('auth')).row, {});
    });
    it('an STS token is signed and accepted (the emulator has no STS: any token passes with the right key)', async () => {
      const sts = newClient(emu, { stsToken: 'token-123' });
      const { tableNames } = await call(sts, 'listTable', {});
      assert.ok(tableNames.includes(table));
    });
  });
});
