package tasks

import (
	"github.com/novelfactory/runner/engine/tasktype"
	"github.com/novelfactory/runner/tasks/changelog"
	"github.com/novelfactory/runner/tasks/chart"
	"github.com/novelfactory/runner/tasks/checksum"
	"github.com/novelfactory/runner/tasks/csvjoin"
	"github.com/novelfactory/runner/tasks/csvsum"
	"github.com/novelfactory/runner/tasks/dump"
	"github.com/novelfactory/runner/tasks/git"
	"github.com/novelfactory/runner/tasks/githubrelease"
	"github.com/novelfactory/runner/tasks/llmusage"
	"github.com/novelfactory/runner/tasks/load"
	"github.com/novelfactory/runner/tasks/md2epub"
	"github.com/novelfactory/runner/tasks/md2pdf"
	"github.com/novelfactory/runner/tasks/notify"
	"github.com/novelfactory/runner/tasks/prune"
	"github.com/novelfactory/runner/tasks/replace"
	"github.com/novelfactory/runner/tasks/report"
	"github.com/novelfactory/runner/tasks/requirements"
	"github.com/novelfactory/runner/tasks/s3get"
	"github.com/novelfactory/runner/tasks/s3put"
	"github.com/novelfactory/runner/tasks/shell"
	"github.com/novelfactory/runner/tasks/tokencost"
	"github.com/novelfactory/runner/tasks/unzip"
	"github.com/novelfactory/runner/tasks/zip"
)

// builtins is the one list of built-in task types: a new type is added here.
var builtins = []func(*tasktype.Registry){
	changelog.Register,
	chart.Register,
	checksum.Register,
	csvjoin.Register,
	csvsum.Register,
	dump.Register,
	git.Register,
	githubrelease.Register,
	llmusage.Register,
	load.Register,
	md2epub.Register,
	md2pdf.Register,
	notify.Register,
	prune.Register,
	replace.Register,
	report.Register,
	requirements.Register,
	s3get.Register,
	s3put.Register,
	shell.Register,
	tokencost.Register,
	unzip.Register,
	zip.Register,
}

func init() { RegisterAll(tasktype.Builtin()) }

// RegisterAll adds every built-in task type to r.
func RegisterAll(r *tasktype.Registry) {
	for _, register := range builtins {
		register(r)
	}
}
