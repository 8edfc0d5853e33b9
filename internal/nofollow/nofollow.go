// Package nofollow opens a file whose last path element must not be a
// symbolic link: runner's own files (logs, journals, lock files) in
// folders another user or a task could write to, where a link would make
// runner write — or serve — whatever it points at.
//
// On Linux and macOS this is O_NOFOLLOW, checked by the kernel in the same
// step as the open. Windows has no such flag for CreateFile's ordinary
// opens: there the path is looked at with Lstat first, opened, and the
// open file compared with what was looked at (volume and file index); a
// link, or a file swapped in between, is refused. That is a check, not an
// atomic guarantee: a swap and a swap back within the open go unnoticed.
package nofollow

import "errors"

// ErrLink is returned on Windows (in an *fs.PathError) for a path that is
// a symbolic link or another reparse point such as a junction; on Linux and
// macOS the kernel's ELOOP is returned as it is.
var ErrLink = errors.New("is a symbolic link, which runner does not follow here")
