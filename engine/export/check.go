package export

import (
	"fmt"
	"net/url"
	"regexp"
	"strings"
	"unicode"

	"github.com/novelfactory/runner/internal/objstore"
	"github.com/novelfactory/runner/internal/quote"
)

// The values of Options reach the workflow as arguments, in comments, in
// an image: field. Arguments are written as YAML strings, which hold any
// text; the rest is checked here, once, for every engine, so that no
// value ends a comment or adds a key (a line break), or is read by the
// engine as one of its expressions.

// check refuses options that cannot be valid: a URL or an image with
// spaces or control characters, a state store runner exec cannot open.
func (o Options) check() error {
	if err := plainText("the recipe's path", o.Recipe); err != nil {
		return err
	}
	if err := word("--state", o.State); err != nil {
		return err
	}
	if _, err := objstore.Parse(o.State); err != nil {
		return fmt.Errorf("export: --state %w", err)
	}
	if o.StateEndpoint != "" {
		if err := word("--state-endpoint", o.StateEndpoint); err != nil {
			return err
		}
		// Not echoed: a URL may hold a password.
		u, err := url.Parse(o.StateEndpoint)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return fmt.Errorf("export: --state-endpoint is not a URL of an S3-compatible server: write http://host[:port] or https://host[:port]")
		}
	}
	if o.StateRegion != "" && !regionPattern.MatchString(o.StateRegion) {
		return fmt.Errorf("export: --state-region %s: write a region such as eu-central-1 (letters, digits, ., _ and -)", quote.Text(o.StateRegion))
	}
	if o.Image != "" {
		if err := CheckImage(o.Image); err != nil {
			return err
		}
	}
	for _, d := range o.IncludeDirs {
		if err := plainText("--include-dir", d); err != nil {
			return err
		}
	}
	for _, n := range o.Secrets {
		if !ValidEnvName(n) {
			return fmt.Errorf("export: --secret %s: give the name of an environment variable (letters, digits and _, not starting with a digit)", quote.Text(n))
		}
	}
	return nil
}

// regionPattern is what an S3 region looks like, on AWS (eu-central-1)
// and on S3-compatible servers (auto, garage, us-east-1).
var regionPattern = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]*$`)

// imagePattern is a container image reference as the OCI distribution
// spec writes it: [registry[:port]/]name[/name…][:tag][@algorithm:digest],
// the name's parts lowercase. It holds no space, no control character and
// no brace, so neither GitHub (${{ }}) nor Argo ({{ }}) reads anything in it.
var imagePattern = regexp.MustCompile(`^` +
	`(?:[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)*(?::[0-9]+)?/)?` + // registry
	`[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*` + // name
	`(?::[A-Za-z0-9_][A-Za-z0-9_.-]{0,127})?` + // tag
	`(?:@[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9A-Fa-f]{32,})?` + // digest
	`$`)

// CheckImage refuses what is not a container image reference.
func CheckImage(image string) error {
	if len(image) > 4096 || !imagePattern.MatchString(image) {
		return fmt.Errorf("export: --image %s is not a container image reference: write [registry/]name[:tag][@sha256:digest], such as ghcr.io/org/runner:1.0.0 (a lowercase name; no spaces, braces or control characters)", quote.Text(image))
	}
	return nil
}

// ValidEnvName reports whether name can name an environment variable in
// every engine, as a Kubernetes Secret's key and a GitHub secret: POSIX's
// portable names.
func ValidEnvName(name string) bool {
	if name == "" || name[0] >= '0' && name[0] <= '9' {
		return false
	}
	for _, c := range name {
		if !(c == '_' || c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9') {
			return false
		}
	}
	return true
}

// plainText refuses a value that holds a line break or another control
// character: written into a comment it would end the comment.
func plainText(what, s string) error {
	if i := strings.IndexFunc(s, isBreak); i >= 0 {
		return fmt.Errorf("export: %s %s holds a line break or control character (%U): it could not be written into the workflow safely", what, quote.Text(s), []rune(s[i:])[0])
	}
	return nil
}

// word refuses a value that holds a space or a control character (a URL).
// The value is not echoed: a URL may hold a password.
func word(what, s string) error {
	if i := strings.IndexFunc(s, func(r rune) bool { return isBreak(r) || unicode.IsSpace(r) }); i >= 0 {
		return fmt.Errorf("export: %s holds a space, line break or control character (%U at byte %d): give a URL", what, []rune(s[i:])[0], i)
	}
	return nil
}

// isBreak reports whether r is a control character or a line or paragraph
// separator: every character YAML (1.1 or 1.2) or a reader may take for
// the end of a line.
func isBreak(r rune) bool {
	return unicode.IsControl(r) || r == '\u2028' || r == '\u2029'
}

// OneLine returns s as one line for a comment: every run of spaces, line
// breaks and control characters becomes one space.
func OneLine(s string) string {
	return strings.Join(strings.FieldsFunc(s, func(r rune) bool { return isBreak(r) || unicode.IsSpace(r) }), " ")
}
