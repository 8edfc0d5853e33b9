package tasktype

import "github.com/novelfactory/runner/internal/errclass"

// Error classes that `retry.on` can name.
const (
	ClassTimeout   = errclass.Timeout   // the task's timeout elapsed
	ClassTransient = errclass.Transient // a failure worth retrying: network, throttling, 5xx
	ClassExit      = errclass.Exit      // a child process exited non-zero
	ClassError     = errclass.Other     // anything else
)

// Classes lists every error class, for validation of `retry.on`.
var Classes = errclass.All()

// ClassifiedError is an error that knows its class.
type ClassifiedError = errclass.Error

// Transient marks err as worth retrying.
func Transient(err error) error { return errclass.MarkTransient(err) }

// Classify returns the class of err.
func Classify(err error) string { return errclass.Of(err) }
