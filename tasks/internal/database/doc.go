// Package database dumps (and, for restores, loads) the databases a factory
// keeps: Neo4j through neo4j-admin — installed, or a one-off container of
// the official image — PostgreSQL through pg_dump, and SQLite in pure Go.
// Every dump is written into a temporary file or folder beside its
// destination; callers rename it into place only once it is whole.
package database

//go:generate go run github.com/novelfactory/runner/internal/gendoc -export -o zz_fielddocs.go
