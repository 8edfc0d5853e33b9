package main

import (
	"strings"

	"github.com/novelfactory/runner/engine/state"
)

// valueFlags are the flags that take a value as the next argument.
var valueFlags = map[string]bool{
	"--set": true, "--vars": true, "--include-dir": true, "--jobs": true, "-j": true, "--only": true, "--output": true, "-o": true,
	"--workdir": true, "--state-dir": true, "--format": true, "-f": true, "--rerun": true,
	"--listen": true, "--finance-csv": true, "--backups": true, "--grace": true,
	"--to": true, "--image": true, "--state": true, "--state-endpoint": true, "--state-region": true, "--secret": true, "--runner-version": true, "--k8s-secret": true,
	"--run": true, "--task": true, "--item": true, "--max-items": true,
}

// normalizeArgs lets flags follow the recipe, as the design writes them
// (`runner apply RECIPE --set k=v`): urfave/cli, like Go's flag package,
// stops at the first positional argument, so flags are moved before the
// positionals. It also gives --resume its optional value: a run id when one
// follows, "latest" otherwise.
func normalizeArgs(args []string) []string {
	if len(args) < 2 {
		return args
	}
	out := []string{args[0]}
	i := 1
	// Global flags (--help, --version) and the command name stay in front.
	for i < len(args) && strings.HasPrefix(args[i], "-") {
		out = append(out, args[i])
		i++
	}
	if i == len(args) {
		return out
	}
	out = append(out, args[i]) // the command
	var flags, positional []string
	for i++; i < len(args); i++ {
		a := args[i]
		switch {
		case a == "--":
			positional = append(positional, args[i+1:]...)
			i = len(args)
		case a == "--resume":
			if i+1 < len(args) && state.IsRunID(args[i+1]) {
				flags = append(flags, "--resume="+args[i+1])
				i++
			} else {
				flags = append(flags, "--resume=latest")
			}
		case strings.HasPrefix(a, "-") && a != "-":
			flags = append(flags, a)
			if valueFlags[a] && i+1 < len(args) {
				flags = append(flags, args[i+1])
				i++
			}
		default:
			positional = append(positional, a)
		}
	}
	out = append(out, flags...)
	if len(positional) > 0 {
		out = append(out, "--")
		out = append(out, positional...)
	}
	return out
}
