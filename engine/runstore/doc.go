// Package runstore keeps one run of a recipe in an object store
// (s3://bucket/prefix or file://dir, through internal/objstore) so that
// its tasks can run on different machines, each as a `runner exec`: the
// run's record (run.json), one record per task, plan and for_each
// instance, and the files tasks' outputs name, content-addressed by
// SHA-256.
//
// Layout, under the store's prefix:
//
//	RUN_ID/run.json                 the run: id, recipe, digests, start
//	RUN_ID/tasks/<ID>.json          a plain task's record, or a for_each task's plan
//	RUN_ID/tasks/<ID>/<N>.json      instance N of a for_each task
//	RUN_ID/files/sha256/<hex>       file contents
//
// Every write is one object put, atomic in both stores: two writers of
// one record leave one whole record (the last), never a mix. Records are
// masked as state.json is. It knows nothing about scheduling: the engine
// decides what a record means.
package runstore
