// The API surface beyond plain rows, through the Node SDK: BatchGetRow,
// filters (single, composite, passIfMissing, latestVersionOnly, column
// pagination) on getRow / getRange / batchGetRow, column conditions on
// every write, returnContent Primarykey and AfterModify, and capacity
// units computed by size in 4 KB units.
'use strict';
const { describe, it, before, after } = require('node:test');
const assert = require('node:assert/strict');
const { startEmulator } = require('../lib/emulator');
const {
  TableStore, Long, newClient, call, uniqueName, createTable, expectServiceError, ignore, attrs, attrsNoTs, pk,
} = require('../lib/sdk');

const { ComparatorType: CT, LogicalOperator: LO, RowExistenceExpectation: RE } = TableStore;
const single = (column, value, comparator = CT.EQUAL, passIfMissing = true, latestVersionOnly = true) =>
  new TableStore.SingleColumnCondition(column, value, comparator, passIfMissing, latestVersionOnly);
const composite = (op, ...subs) => {
  const c = new TableStore.CompositeCondition(op);
  for (const s of subs) c.addSubCondition(s);
  return c;
};
const cu = (c) => [c.capacityUnit.read, c.capacityUnit.write];

describe('API surface', () => {
  let emu;
  let client;
  let people;
  before(async () => {
    emu = await startEmulator();
    client = newClient(emu);
    people = await createTable(client, uniqueName('people'), [{ name: 'pk', type: 'STRING' }]);
    const data = { a: ['ann', 30, 'paris'], b: ['bob', 40, 'rome'], c: ['cid', 50, 'paris'], d: ['dan', 60, null] };
    for (const [key, [name, age, city]] of Object.entries(data)) {
      const cols = [{ age: Long.fromNumber(age) }, { name }];
      if (city) cols.push({ city });
      await call(client, 'putRow', { tableName: people, condition: ignore(), primaryKey: [{ pk: key }], attributeColumns: cols });
    }
  });
  after(async () => {
    await emu.stop();
  });

  const keys = async (columnFilter, extra = {}) => {
    const data = await call(client, 'getRange', {
      tableName: people, direction: TableStore.Direction.FORWARD, maxVersions: 1, columnFilter,
      inclusiveStartPrimaryKey: [{ pk: TableStore.INF_MIN }], exclusiveEndPrimaryKey: [{ pk: TableStore.INF_MAX }], ...extra,
    });
    assert.equal(data.nextStartPrimaryKey, null);
    return data.rows.map((r) => r.primaryKey[0].value);
  };

  describe('filters', () => {
    it('single-column comparisons on getRange', async () => {
      const n40 = Long.fromNumber(40);
      assert.deepEqual(await keys(single('age', n40, CT.EQUAL)), ['b']);
      assert.deepEqual(await keys(single('age', n40, CT.NOT_EQUAL)), ['a', 'c', 'd']);
      assert.deepEqual(await keys(single('age', n40, CT.GREATER_THAN)), ['c', 'd']);
      assert.deepEqual(await keys(single('age', n40, CT.GREATER_EQUAL)), ['b', 'c', 'd']);
      assert.deepEqual(await keys(single('age', n40, CT.LESS_THAN)), ['a']);
      assert.deepEqual(await keys(single('age', n40, CT.LESS_EQUAL)), ['a', 'b']);
    });
    it('passIfMissing decides rows without the column', async () => {
      assert.deepEqual(await keys(single('city', 'paris', CT.EQUAL, true)), ['a', 'c', 'd']);
      assert.deepEqual(await keys(single('city', 'paris', CT.EQUAL, false)), ['a', 'c']);
    });
    it('AND / OR / NOT, nested', async () => {
      const paris = single('city', 'paris', CT.EQUAL, false);
      const old = single('age', Long.fromNumber(45), CT.GREATER_THAN);
      assert.deepEqual(await keys(composite(LO.AND, paris, old)), ['c']);
      assert.deepEqual(await keys(composite(LO.OR, paris, old)), ['a', 'c', 'd']);
      assert.deepEqual(await keys(composite(LO.NOT, paris)), ['b', 'd']);
      assert.deepEqual(await keys(composite(LO.AND, composite(LO.NOT, paris), old)), ['d']);
    });
    it('latestVersionOnly', async () => {
      const t = await createTable(client, uniqueName('lvo'), [{ name: 'pk', type: 'STRING' }], { maxVersions: 5 });
      const ts = Date.now() - 10000;
      await call(client, 'updateRow', {
        tableName: t, condition: ignore(), primaryKey: [{ pk: 'v' }],
        updateOfAttributeColumns: [{ PUT: [{ c: Long.fromNumber(1), timestamp: Long.fromNumber(ts) }, { c: Long.fromNumber(2), timestamp: Long.fromNumber(ts + 1) }] }],
      });
      const get = (latest) => call(client, 'getRow', { tableName: t, primaryKey: [{ pk: 'v' }], maxVersions: 5,
        columnFilter: single('c', Long.fromNumber(1), CT.EQUAL, true, latest) });
      assert.deepEqual((await get(true)).row, {});
      assert.deepEqual(attrs((await get(false)).row), [['c', 'long:2', ts + 1], ['c', 'long:1', ts]]);
    });
    it('ColumnPaginationFilter on getRow and getRange: columns [offset, offset+limit)', async () => {
      const { row } = await call(client, 'getRow', { tableName: people, primaryKey: [{ pk: 'a' }],
        columnFilter: new TableStore.ColumnPaginationFilter(2, 1) });
      assert.deepEqual(attrsNoTs(row), [['city', 'paris'], ['name', 'ann']]);
      const data = await call(client, 'getRange', {
        tableName: people, direction: TableStore.Direction.FORWARD, maxVersions: 1, columnFilter: new TableStore.ColumnPaginationFilter(1, 0),
        inclusiveStartPrimaryKey: [{ pk: TableStore.INF_MIN }], exclusiveEndPrimaryKey: [{ pk: TableStore.INF_MAX }],
      });
      assert.deepEqual(data.rows.map(attrsNoTs), [[['age', 'long:30']], [['age', 'long:40']], [['age', 'long:50']], [['age', 'long:60']]]);
    });
    it('a failing filter on getRow returns no row; startColumn/endColumn select a column range', async () => {
      const get = (extra) => call(client, 'getRow', { tableName: people, primaryKey: [{ pk: 'b' }], ...extra });
      assert.deepEqual((await get({ columnFilter: single('name', 'nobody') })).row, {});
      assert.deepEqual(attrsNoTs((await get({ startColumn: 'b', endColumn: 'name' })).row), [['city', 'rome']]);
    });
    it('a column pagination filter as a column condition is OTSParameterInvalid', async () => {
      await expectServiceError(call(client, 'updateRow', {
        tableName: people, primaryKey: [{ pk: 'a' }], updateOfAttributeColumns: [{ PUT: [{ x: 1 }] }],
        condition: new TableStore.Condition(RE.IGNORE, new TableStore.ColumnPaginationFilter(1, 0)),
      }), 400, 'OTSParameterInvalid', 'A column pagination filter cannot be used as a column condition.');
    });
  });

  describe('batchGetRow', () => {
    it('several tables, per-row results, missing rows and tables, filters', async () => {
      const other = await createTable(client, uniqueName('other'), [{ name: 'k', type: 'INTEGER' }]);
      await call(client, 'putRow', { tableName: other, condition: ignore(), primaryKey: [{ k: Long.fromNumber(1) }], attributeColumns: [{ v: 'one' }] });
      const data = await call(client, 'batchGetRow', { tables: [
        { tableName: people, primaryKey: [[{ pk: 'a' }], [{ pk: 'zz' }], [{ pk: 'c' }]], columnFilter: single('age', Long.fromNumber(45), CT.GREATER_THAN) },
        { tableName: other, primaryKey: [[{ k: Long.fromNumber(1) }], [{ k: 'wrong' }]] },
        { tableName: 'no_such_table_bgr', primaryKey: [[{ pk: 'a' }]] },
      ] });
      const [p, o, m] = data.tables;
      assert.deepEqual(p.map((r) => [r.isOk, r.attributes && attrsNoTs({ attributes: r.attributes })]), [
        [true, null], [true, null], [true, [['age', 'long:50'], ['city', 'paris'], ['name', 'cid']]]]);
      assert.deepEqual(p.map((r) => cu(r)), [[1, 0], [1, 0], [1, 0]]);
      assert.deepEqual([o[0].isOk, attrsNoTs({ attributes: o[0].attributes })], [true, [['v', 'one']]]);
      assert.deepEqual([o[1].isOk, o[1].errorCode, o[1].errorMessage], [false, 'OTSInvalidPK', 'Validate PK type fail. Input: VT_STRING, Meta: VT_INTEGER.']);
      assert.deepEqual(m.map((r) => [r.isOk, r.errorCode, r.errorMessage]), [[false, 'OTSObjectNotExist', 'Requested table does not exist.']]);
    });
    it('more than 100 rows is OTSParameterInvalid', async () => {
      const rows = (n) => Array.from({ length: n }, (_, i) => [{ pk: `k${i}` }]);
      await expectServiceError(call(client, 'batchGetRow', { tables: [{ tableName: people, primaryKey: rows(101) }] }),
        400, 'OTSParameterInvalid', 'The total number of rows in BatchGetRow exceeds the limit. Limit:100, Current:101.');
      const ok = await call(client, 'batchGetRow', { tables: [{ tableName: people, primaryKey: rows(100) }] });
      assert.equal(ok.tables[0].length, 100);
    });
  });

  describe('column conditions', () => {
    it('on putRow, updateRow and deleteRow', async () => {
      const t = await createTable(client, uniqueName('cc'), [{ name: 'pk', type: 'STRING' }]);
      const put = (cond, v) => call(client, 'putRow', { tableName: t, primaryKey: [{ pk: 'x' }], condition: cond, attributeColumns: [{ v: Long.fromNumber(v) }] });
      await put(ignore(), 1);
      await expectServiceError(put(new TableStore.Condition(RE.IGNORE, single('v', Long.fromNumber(9))), 2),
        403, 'OTSConditionCheckFail', 'Condition check failed.');
      await put(new TableStore.Condition(RE.EXPECT_EXIST, single('v', Long.fromNumber(1))), 2);
      await expectServiceError(call(client, 'updateRow', { tableName: t, primaryKey: [{ pk: 'x' }],
        condition: new TableStore.Condition(RE.IGNORE, composite(LO.AND, single('v', Long.fromNumber(2)), single('w', 'x', CT.EQUAL, false))),
        updateOfAttributeColumns: [{ PUT: [{ v: Long.fromNumber(3) }] }] }), 403, 'OTSConditionCheckFail', 'Condition check failed.');
      await call(client, 'updateRow', { tableName: t, primaryKey: [{ pk: 'x' }],
        condition: new TableStore.Condition(RE.IGNORE, composite(LO.OR, single('v', Long.fromNumber(2)), single('w', 'x', CT.EQUAL, false))),
        updateOfAttributeColumns: [{ PUT: [{ v: Long.fromNumber(3) }] }] });
      await expectServiceError(call(client, 'deleteRow', { tableName: t, primaryKey: [{ pk: 'x' }],
        condition: new TableStore.Condition(RE.IGNORE, single('v', Long.fromNumber(2))) }), 403, 'OTSConditionCheckFail', 'Condition check failed.');
      await call(client, 'deleteRow', { tableName: t, primaryKey: [{ pk: 'x' }], condition: new TableStore.Condition(RE.IGNORE, single('v', Long.fromNumber(3))) });
      assert.deepEqual((await call(client, 'getRow', { tableName: t, primaryKey: [{ pk: 'x' }] })).row, {});
    });
    it('inside batchWriteRow, per row', async () => {
      const data = await call(client, 'batchWriteRow', { tables: [{ tableName: people, rows: [
        { type: 'UPDATE', primaryKey: [{ pk: 'a' }], condition: new TableStore.Condition(RE.IGNORE, single('name', 'ann')), attributeColumns: [{ PUT: [{ tag: 'hit' }] }] },
        { type: 'UPDATE', primaryKey: [{ pk: 'b' }], condition: new TableStore.Condition(RE.IGNORE, single('name', 'ann')), attributeColumns: [{ PUT: [{ tag: 'hit' }] }] },
      ] }] });
      assert.deepEqual(data.tables.map((r) => [r.isOk, r.errorCode]), [[true, null], [false, 'OTSConditionCheckFail']]);
      const tagOf = async (k) => attrsNoTs((await call(client, 'getRow', { tableName: people, primaryKey: [{ pk: k }], columnsToGet: ['tag'] })).row);
      assert.deepEqual(await tagOf('a'), [['tag', 'hit']]);
      assert.deepEqual(await tagOf('b'), []);
    });
  });

  describe('returnContent', () => {
    it('AfterModify on an INCREMENT returns the new counter value (increment.js cells)', async () => {
      const t = await createTable(client, uniqueName('orders'), [{ name: 'order_id', type: 'STRING' }]);
      await call(client, 'putRow', { tableName: t, condition: ignore(), primaryKey: [{ order_id: 'order_id_001' }], attributeColumns: [{ increment: Long.fromNumber(10) }, { other: 'x' }] });
      const data = await call(client, 'updateRow', {
        tableName: t, condition: new TableStore.Condition(RE.EXPECT_EXIST, null), primaryKey: [{ order_id: 'order_id_001' }],
        updateOfAttributeColumns: [{ INCREMENT: [{ increment: Long.fromNumber(1) }] }],
        returnContent: { returnColumns: ['increment'], returnType: TableStore.ReturnType.AfterModify },
      });
      assert.deepEqual(pk(data.row), [['order_id', 'order_id_001']]);
      assert.deepEqual(attrsNoTs(data.row), [['increment', 'long:11']]);
      const batch = await call(client, 'batchWriteRow', { tables: [{ tableName: t, rows: [{
        type: 'UPDATE', condition: new TableStore.Condition(RE.EXPECT_EXIST, null), primaryKey: [{ order_id: 'order_id_001' }],
        attributeColumns: [{ INCREMENT: [{ increment: Long.fromNumber(5) }] }],
        returnContent: { returnColumns: ['increment'], returnType: TableStore.ReturnType.AfterModify },
      }] }] });
      assert.deepEqual(attrsNoTs({ attributes: batch.tables[0].attributes }), [['increment', 'long:16']]);
    });
    it('Primarykey returns only the primary key', async () => {
      const data = await call(client, 'putRow', { tableName: people, condition: ignore(), primaryKey: [{ pk: 'e' }],
        attributeColumns: [{ name: 'eve' }], returnContent: { returnType: TableStore.ReturnType.Primarykey } });
      assert.deepEqual(pk(data.row), [['pk', 'e']]);
      assert.deepEqual(data.row.attributes, []);
    });
  });

  describe('updateTable and TTL on read', () => {
    it('a shorter TTL and fewer max versions apply to later reads at once', async () => {
      const t = await createTable(client, uniqueName('ut'), [{ name: 'pk', type: 'STRING' }], { maxVersions: 3, maxTimeDeviation: 5 * 86400 });
      const now = Date.now();
      await call(client, 'updateRow', { tableName: t, condition: ignore(), primaryKey: [{ pk: 'a' }], updateOfAttributeColumns: [{ PUT: [
        { c: 'v0', timestamp: Long.fromNumber(now - 2 * 86400 * 1000) }, { c: 'v1', timestamp: Long.fromNumber(now - 2) }, { c: 'v2', timestamp: Long.fromNumber(now - 1) },
      ] }] });
      const read = async () => attrsNoTs((await call(client, 'getRow', { tableName: t, primaryKey: [{ pk: 'a' }], maxVersions: 3 })).row);
      assert.deepEqual(await read(), [['c', 'v2'], ['c', 'v1'], ['c', 'v0']]);
      const data = await call(client, 'updateTable', { tableName: t, tableOptions: { timeToLive: 86400, maxVersions: 2, maxTimeDeviation: 3600 } });
      assert.deepEqual([data.tableOptions.timeToLive, data.tableOptions.maxVersions, Number(data.tableOptions.deviationCellVersionInSec)], [86400, 2, 3600]);
      const d = await call(client, 'describeTable', { tableName: t });
      assert.deepEqual([d.tableOptions.timeToLive, d.tableOptions.maxVersions, Number(d.tableOptions.deviationCellVersionInSec)], [86400, 2, 3600]);
      assert.deepEqual(await read(), [['c', 'v2'], ['c', 'v1']]);
    });
    it('bad options are OTSParameterInvalid, unknown tables OTSObjectNotExist', async () => {
      const t = await createTable(client, uniqueName('ut'), [{ name: 'pk', type: 'STRING' }]);
      await expectServiceError(call(client, 'updateTable', { tableName: t, tableOptions: { maxVersions: 0, timeToLive: -1 } }),
        400, 'OTSParameterInvalid', 'The maximum versions cannot be less than or equal to 0.');
      await expectServiceError(call(client, 'updateTable', { tableName: t, tableOptions: { timeToLive: 100 } }),
        400, 'OTSParameterInvalid', 'Invalid time_to_live: 100; it must be -1 (forever) or at least 86400 seconds.');
      await expectServiceError(call(client, 'updateTable', { tableName: 'no_such_table_ut', tableOptions: { maxVersions: 2 } }),
        404, 'OTSObjectNotExist', 'Requested table does not exist.');
    });
  });

  describe('capacity units by size (4 KB units, rounded up)', () => {
    it('writes and reads of a 4 KB+ row', async () => {
      const t = await createTable(client, uniqueName('cu'), [{ name: 'PK1', type: 'STRING' }]);
      const key = [{ PK1: '0'.repeat(20) }];
      const cols = [{ C0: 'V'.repeat(2048) }, { C1: 'B'.repeat(2048) }];
      assert.deepEqual(cu((await call(client, 'putRow', { tableName: t, condition: ignore(), primaryKey: key, attributeColumns: cols })).consumed), [0, 2]);
      assert.deepEqual(cu((await call(client, 'updateRow', { tableName: t, condition: new TableStore.Condition(RE.EXPECT_EXIST, null),
        primaryKey: key, updateOfAttributeColumns: [{ PUT: cols }] })).consumed), [1, 2]);
      assert.deepEqual(cu((await call(client, 'getRow', { tableName: t, primaryKey: key })).consumed), [2, 0]);
      assert.deepEqual(cu((await call(client, 'updateRow', { tableName: t, condition: ignore(), primaryKey: key,
        updateOfAttributeColumns: [{ DELETE_ALL: ['C0', 'C1'] }] })).consumed), [0, 1]);
      assert.deepEqual(cu((await call(client, 'deleteRow', { tableName: t, condition: ignore(), primaryKey: key })).consumed), [0, 1]);
      assert.deepEqual(cu((await call(client, 'getRow', { tableName: t, primaryKey: key })).consumed), [1, 0]);
    });
  });
});
