// Writes the PlainBuffer bytes the official Node.js SDK sends for the calls
// of its samples that pad their buffers (tests/fixtures/node-sdk/*.bin),
// for tests/sdk_fixtures.rs. Run: node tests/interop-node/gen_fixtures.js
'use strict';
const fs = require('fs');
const path = require('path');
const TableStore = require('tablestore');
const Long = TableStore.Long;
const build = TableStore.PlainBufferBuilder;

const out = path.join(__dirname, '..', 'fixtures', 'node-sdk');
const vectors = {
  // samples/getRange.js: both bounds all INF_MIN / INF_MAX.
  range_start_inf_min: build.serializePrimaryKey([{ gid: TableStore.INF_MIN }, { uid: TableStore.INF_MIN }]),
  range_end_inf_max: build.serializePrimaryKey([{ gid: TableStore.INF_MAX }, { uid: TableStore.INF_MAX }]),
  // samples/AutoIncrement.js: a put with an auto-increment key column.
  put_auto_increment: build.serializeForPutRow([{ pk1: 'a' }, { pk2: TableStore.PK_AUTO_INCR }], [{ col: 'x' }]),
  // samples/multiVersion.js: an update PUT with an explicit timestamp.
  update_put_with_timestamp: build.serializeForUpdateRow([{ pk1: 'pk1val' }, { pk2: 'pk2val' }], [
    { PUT: [{ col: 'v', timestamp: Long.fromNumber(1700000000000) }] },
  ]),
  // samples/updateRow.js: PUT, DELETE of one version, DELETE_ALL.
  update_sample_mixed: build.serializeForUpdateRow([{ gid: Long.fromNumber(9) }, { uid: Long.fromNumber(90) }], [
    { PUT: [{ col4: Long.fromNumber(4) }, { col5: '5' }, { col6: Long.fromNumber(7) }] },
    { DELETE: [{ col1: Long.fromNumber(1496826473186) }] },
    { DELETE_ALL: ['col2'] },
  ]),
};
for (const [name, bytes] of Object.entries(vectors)) {
  fs.writeFileSync(path.join(out, `${name}.bin`), bytes);
  console.log(`${name}: ${bytes.length} bytes`);
}
