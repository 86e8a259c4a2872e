// The Node SDK's samples, run unchanged against the emulator (only the
// endpoint and credentials come from the environment, as samples/client.js
// expects). Each sample prints "success:" or "error:"; we also read the
// results back with our own SDK client and compare exact values.
'use strict';
const { describe, it, before, after } = require('node:test');
const assert = require('node:assert/strict');
const { startEmulator } = require('../lib/emulator');
const { runSample } = require('../lib/samples');
const { TableStore, newClient, call, Long, attrsNoTs, pk } = require('../lib/sdk');

function succeeded(out, file) {
  assert.doesNotMatch(out.stdout, /^error:/m, `${file} printed an error:\n${out.stdout}`);
  assert.match(out.stdout, /success/, `${file} printed no success:\n${out.stdout}`);
}

describe('SDK samples, unchanged', () => {
  let emu;
  let client;
  before(async () => {
    emu = await startEmulator();
    client = newClient(emu);
  });
  after(async () => {
    await emu.stop();
  });

  const getRow = (gid, uid) => call(client, 'getRow', {
    tableName: 'sampleTable', primaryKey: [{ gid: Long.fromNumber(gid) }, { uid: Long.fromNumber(uid) }], maxVersions: 10,
  });

  it('createTable.js creates sampleTable (gid, uid INTEGER)', async () => {
    succeeded(await runSample(emu, 'createTable.js'), 'createTable.js');
    const d = await call(client, 'describeTable', { tableName: 'sampleTable' });
    assert.deepEqual(d.tableMeta.primaryKey.map((c) => [c.name, c.type]), [['gid', 1], ['uid', 1]]);
    assert.equal(d.tableOptions.maxVersions, 1);
    assert.equal(d.tableOptions.timeToLive, -1);
  });

  it('listTable.js and describeTable.js', async () => {
    succeeded(await runSample(emu, 'listTable.js'), 'listTable.js');
    const out = await runSample(emu, 'describeTable.js');
    succeeded(out, 'describeTable.js');
    assert.match(out.stdout, /tableName: 'sampleTable'/);
  });

  it('updateTable.js raises maxVersions to 10', async () => {
    succeeded(await runSample(emu, 'updateTable.js'), 'updateTable.js');
    const d = await call(client, 'describeTable', { tableName: 'sampleTable' });
    assert.equal(d.tableOptions.maxVersions, 10);
    assert.equal(d.tableOptions.timeToLive, -1);
  });

  it('putRow.js writes every attribute type, one with its own timestamp', async () => {
    const before = Date.now();
    succeeded(await runSample(emu, 'putRow.js'), 'putRow.js');
    const { row } = await getRow(20013, 20013);
    assert.deepEqual(pk(row), [['gid', 'long:20013'], ['uid', 'long:20013']]);
    assert.deepEqual(attrsNoTs(row), [
      ['col1', '表格存储'], ['col2', '2'], ['col3', 3.1], ['col4', -0.32], ['col5', 'long:123456789'],
    ]);
    const col2 = row.attributes.find((a) => a.columnName === 'col2');
    assert.ok(Number(col2.timestamp) >= before && Number(col2.timestamp) <= Date.now(), String(col2.timestamp));
  });

  it('getRow.js: a composite AND filter on col1 and col5 (sample 2)', async () => {
    const out = await runSample(emu, 'getRow.js');
    succeeded(out, 'getRow.js');
    // The row passed the filter: all five attributes came back.
    assert.match(out.stdout, /attributes: \[ \[Object\], \[Object\], \[Object\], \[Object\], \[Object\] \]/);
  });

  it('batchGetRow.js: two keys (one missing) with startColumn col2 / endColumn col4', async () => {
    const out = await runSample(emu, 'batchGetRow.js');
    succeeded(out, 'batchGetRow.js');
    const data = JSON.parse(out.stdout.slice(out.stdout.indexOf('{')));
    const [hit, miss] = data.tables[0];
    assert.deepEqual([hit.isOk, hit.attributes.map((a) => a.columnName)], [true, ['col2', 'col3']]);
    assert.deepEqual([miss.isOk, miss.primaryKey, miss.attributes], [true, null, null]);
  });

  it('conditionUpdateRow.js: EXPECT_EXIST with an AND of conditions on missing columns (passIfMissing)', async () => {
    succeeded(await runSample(emu, 'conditionUpdateRow.js'), 'conditionUpdateRow.js');
    const { row } = await getRow(20013, 20013);
    assert.deepEqual(attrsNoTs(row)[0], ['col1', 'test6']);
  });

  it('increment.js: INCREMENT with returnContent AfterModify, single and batched', async () => {
    // The sample expects an existing orderHistory row (EXPECT_EXIST).
    await call(client, 'createTable', {
      tableMeta: { tableName: 'orderHistory', primaryKey: [{ name: 'order_id', type: 'STRING' }] },
      reservedThroughput: { capacityUnit: { read: 0, write: 0 } }, tableOptions: { timeToLive: -1, maxVersions: 1 },
    });
    await call(client, 'putRow', { tableName: 'orderHistory', condition: new TableStore.Condition(TableStore.RowExistenceExpectation.IGNORE, null),
      primaryKey: [{ order_id: 'order_id_001' }], attributeColumns: [{ increment: Long.fromNumber(0) }] });
    const out = await runSample(emu, 'increment.js');
    succeeded(out, 'increment.js');
    // The single update printed the counter after it (1 or 2: the sample sends
    // both requests at once). Its batch result prints through the SDK's
    // protobuf toJSON, which drops the decoded rows (an SDK display quirk).
    assert.match(out.stdout, /"columnName": "increment",\s*"columnValue": [12],/, out.stdout);
    const { row } = await call(client, 'getRow', { tableName: 'orderHistory', primaryKey: [{ order_id: 'order_id_001' }] });
    assert.deepEqual(attrsNoTs(row), [['increment', 'long:2']]);
  });

  it('updateRow.js: PUT, DELETE of one version, DELETE_ALL (a zero-padded row)', async () => {
    succeeded(await runSample(emu, 'updateRow.js'), 'updateRow.js');
    const { row } = await getRow(9, 90);
    assert.deepEqual(attrsNoTs(row), [['col4', 'long:4'], ['col5', '5'], ['col6', 'long:7']]);
  });

  it('batchWriteRow.js: an UPDATE and a PUT returning primary keys', async () => {
    succeeded(await runSample(emu, 'batchWriteRow.js'), 'batchWriteRow.js');
    assert.deepEqual(attrsNoTs((await getRow(8, 80)).row), [['attrCol1', 'test3'], ['attrCol2', 'test4']]);
    assert.deepEqual(attrsNoTs((await getRow(8, 81)).row), [['attrCol1', 'test1'], ['attrCol2', 'test2']]);
  });

  it('getRange.js: INF_MIN..INF_MAX (zero-padded bounds), 2 rows a page, every row once in key order', async () => {
    const out = await runSample(emu, 'getRange.js');
    assert.doesNotMatch(out.stdout, /^error:/m, out.stdout);
    const lines = out.stdout.trim().split('\n');
    const all = JSON.parse(lines[lines.length - 1]);
    const keys = all.map((r) => r.primaryKey.map((c) => Number(c.value)));
    assert.deepEqual(keys, [[8, 80], [8, 81], [9, 90], [20013, 20013]]);
    // Two pages of two rows: the first names where to go on, the second ends the scan.
    assert.equal((out.stdout.match(/"nextStartPrimaryKey": \[/g) || []).length, 1, out.stdout);
    assert.equal((out.stdout.match(/"nextStartPrimaryKey": null/g) || []).length, 1, out.stdout);
  });

  it('deleteRow.js deletes row 20013', async () => {
    succeeded(await runSample(emu, 'deleteRow.js'), 'deleteRow.js');
    assert.deepEqual((await getRow(20013, 20013)).row, {});
  });

  it('computeSplits.js (search indexes, not emulated) gets the service error for an unsupported operation', async () => {
    const out = await runSample(emu, 'computeSplits.js');
    assert.match(out.stdout, /computeSplits error:[\s\S]*OTSParameterInvalid[\s\S]*Unsupported operation: ComputeSplits\./, out.stdout);
  });

  it('primarykey.js: every key type with an AUTO_INCREMENT column, read back by the returned key', async () => {
    const out = await runSample(emu, 'primarykey.js');
    assert.doesNotMatch(out.stdout, /^error:/m, out.stdout);
    assert.match(out.stdout, /create table success/);
    assert.match(out.stdout, /put row success/);
    assert.match(out.stdout, /get row success:/);
    const { rows } = await call(client, 'getRange', {
      tableName: 'autoIncTable', direction: 'FORWARD', maxVersions: 1,
      inclusiveStartPrimaryKey: ['stringPK', 'integerPK', 'binaryPK', 'autoIncPK'].map((n) => ({ [n]: TableStore.INF_MIN })),
      exclusiveEndPrimaryKey: ['stringPK', 'integerPK', 'binaryPK', 'autoIncPK'].map((n) => ({ [n]: TableStore.INF_MAX })),
    });
    assert.equal(rows.length, 1);
    assert.deepEqual(pk(rows[0]).slice(0, 3), [['stringPK', 'pk1'], ['integerPK', 'long:1'], ['binaryPK', 'hex:74657374']]);
    assert.match(pk(rows[0])[3][1], /^long:[1-9][0-9]*$/);
    assert.deepEqual(attrsNoTs(rows[0]), [['col1', 'col1val']]);
  });
});
