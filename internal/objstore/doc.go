// Package objstore puts, lists, reads and deletes objects behind one small
// interface with identical semantics for s3://bucket/prefix (aws-sdk-go-v2:
// the standard credential chain, custom endpoints, path-style addressing)
// and file://dir (a local folder, so that every recipe works with no cloud
// account). A put is atomic — readers see the whole object or none — and
// records the object's SHA-256. It knows nothing about backup sets or tasks.
package objstore
