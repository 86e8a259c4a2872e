// Helpers for the Node SDK suite: a client per emulator, promisified calls,
// unique table names, and service-error decoding.
//
// The SDK's own error parser is broken: it parses the protobuf `Error` body
// as XML, so `err.code` is the HTTP status (a number) and `err.message` is
// the raw protobuf bytes read as UTF-8 followed by " requestId:<id>". We
// decode that text back into (code, message) here instead of bending the
// emulator; a message of 128+ bytes has a two-byte length whose first byte
// is not valid UTF-8 (it reads as U+FFFD), which the pattern allows.
'use strict';
const assert = require('node:assert/strict');
const crypto = require('node:crypto');
const TableStore = require('tablestore');

function newClient(emu, overrides = {}) {
  return new TableStore.Client({
    accessKeyId: emu.accessKeyId,
    secretAccessKey: emu.accessKeySecret,
    endpoint: emu.endpoint,
    instancename: emu.instance,
    maxRetries: 0,
    ...overrides,
  });
}

/** client.method(params) as a promise. */
function call(client, method, params) {
  return new Promise((resolve, reject) => {
    client[method](params, (err, data) => (err ? reject(err) : resolve(data)));
  });
}

function uniqueName(prefix = 't') {
  return `${prefix}_${crypto.randomBytes(6).toString('hex')}`;
}

const ERROR_TEXT = /^\n[\s\S]([A-Za-z]+)\x12(?:\uFFFD[\x00-\x7f]|[\x00-\x7f])([\s\S]*) requestId:([0-9a-f-]{36})$/;

/** { status, code, message, requestId } of an error the SDK raised for a service error. */
function serviceError(err) {
  assert.equal(typeof err.code, 'number', `not a service error: ${err.stack || err}`);
  const m = ERROR_TEXT.exec(err.message);
  assert.ok(m, `unparsable service error body: ${JSON.stringify(err.message)}`);
  return { status: err.code, code: m[1], message: m[2], requestId: m[3] };
}

/** Awaits `promise`, which must fail with exactly this status, code and message (string or RegExp). */
async function expectServiceError(promise, status, code, message) {
  let err;
  try {
    await promise;
  } catch (e) {
    err = e;
  }
  assert.ok(err, `expected ${status} ${code}, but the call succeeded`);
  const got = serviceError(err);
  assert.deepEqual([got.status, got.code], [status, code], got.message);
  if (message instanceof RegExp) assert.match(got.message, message);
  else assert.equal(got.message, message);
  return got;
}

/** The table options every helper-created table gets unless overridden. */
async function createTable(client, name, primaryKey, tableOptions = {}) {
  await call(client, 'createTable', {
    tableMeta: { tableName: name, primaryKey },
    reservedThroughput: { capacityUnit: { read: 0, write: 0 } },
    tableOptions: { timeToLive: -1, maxVersions: 1, ...tableOptions },
  });
  return name;
}

const ignore = () => new TableStore.Condition(TableStore.RowExistenceExpectation.IGNORE, null);

/** A decoded row's attributes as [name, value, timestamp] with Long/Buffer made plain. */
function plain(v) {
  // INTEGER values come back as int64-buffer objects.
  if (v && typeof v.toBuffer === 'function' && typeof v.toNumber === 'function') return `long:${v.toString()}`;
  if (Buffer.isBuffer(v)) return `hex:${v.toString('hex')}`;
  return v;
}
function attrs(row) {
  return (row.attributes || []).map((a) => [a.columnName, plain(a.columnValue), Number(a.timestamp)]);
}
function attrsNoTs(row) {
  return (row.attributes || []).map((a) => [a.columnName, plain(a.columnValue)]);
}
function pk(row) {
  return (row.primaryKey || []).map((p) => [p.name, plain(p.value)]);
}

module.exports = {
  TableStore, Long: TableStore.Long, newClient, call, uniqueName, serviceError, expectServiceError,
  createTable, ignore, attrs, attrsNoTs, pk, plain,
};
