package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"

	"github.com/spf13/pflag"
)

// command is one entry of a command list: chaind's commands, or the
// subcommands of one of them. A command either runs or has subcommands.
type command struct {
	name    string
	summary string
	run     func(args []string) error
	subs    []command
}

// isHelp reports whether arg asks for help.
func isHelp(arg string) bool { return arg == "help" || arg == "-h" || arg == "--help" }

// runGroup dispatches args to one of cmds. Help (help, -h, --help) lists
// the subcommands on stdout and succeeds; a missing or unknown subcommand
// lists them on stderr and fails.
func runGroup(path, summary string, cmds []command, args []string) error {
	if len(args) > 0 && isHelp(args[0]) {
		groupUsage(os.Stdout, path, summary, cmds)
		return nil
	}
	if len(args) > 0 {
		for _, c := range cmds {
			switch {
			case c.name != args[0]:
			case c.subs != nil:
				return runGroup(path+" "+c.name, c.summary, c.subs, args[1:])
			default:
				return c.run(args[1:])
			}
		}
	}
	groupUsage(os.Stderr, path, summary, cmds)
	what := "missing command"
	if len(args) > 0 {
		what = fmt.Sprintf("unknown command %q", args[0])
	}
	if sub := strings.TrimPrefix(path, "chaind "); sub != path {
		return fmt.Errorf("%s: %s", sub, what)
	}
	return errors.New(what)
}

// groupUsage lists cmds one line each.
func groupUsage(w io.Writer, path, summary string, cmds []command) {
	fmt.Fprintf(w, "%s: %s\n\nUsage: %s <command> [flags]\n\nCommands:\n", path, summary, path)
	width := 0
	for _, c := range cmds {
		width = max(width, len(c.name))
	}
	for _, c := range cmds {
		fmt.Fprintf(w, "  %-*s  %s\n", width, c.name, c.summary)
	}
	fmt.Fprintf(w, "\nRun '%s <command> --help' for a command's flags.\n", path)
}

// newFlagSet returns a flag set that reports errors instead of exiting and
// prints its help (on --help or -h) to stdout.
func newFlagSet(name, synopsis string) *pflag.FlagSet {
	fs := pflag.NewFlagSet(name, pflag.ContinueOnError)
	fs.SortFlags = false
	fs.Usage = func() {
		fmt.Fprintf(os.Stdout, "Usage: chaind %s\n", synopsis)
		if fs.HasFlags() {
			fmt.Fprintf(os.Stdout, "\nFlags:\n%s", flagUsages(fs))
		}
	}
	return fs
}

// valueNames are the placeholders shown after a flag, by pflag value type;
// the type names themselves (float64Slice, ...) mean nothing to a user.
var valueNames = map[string]string{
	"bool": "", "string": "string", "int": "N", "int64": "N", "uint64": "N", "uint": "N",
	"float64": "X", "duration": "D",
	"stringSlice": "A,B,...", "int64Slice": "N,N,...", "intSlice": "N,N,...",
	"float64Slice": "X,X,...", "durationSlice": "D,D,...",
}

// flagUsages formats fs's flags one per line: the flag, a placeholder for
// its value (a back-quoted word in the usage names it, as in pflag), the
// usage and a default when it is not empty or zero.
func flagUsages(fs *pflag.FlagSet) string {
	var lefts, rights []string
	fs.VisitAll(func(f *pflag.Flag) {
		if f.Hidden {
			return
		}
		left := "      --" + f.Name
		if f.Shorthand != "" {
			left = "  -" + f.Shorthand + ", --" + f.Name
		}
		name, usage := pflag.UnquoteUsage(f)
		if !strings.Contains(f.Usage, "`") {
			name = valueNames[f.Value.Type()]
		}
		if name != "" {
			left += " " + name
		}
		if def := shownDefault(f); def != "" && !strings.Contains(usage, "(default") {
			usage += " (default " + def + ")"
		}
		lefts, rights = append(lefts, left), append(rights, usage)
	})
	width := 0
	for _, l := range lefts {
		width = max(width, len(l))
	}
	var b strings.Builder
	for i := range lefts {
		fmt.Fprintf(&b, "%-*s   %s\n", width, lefts[i], rights[i])
	}
	return b.String()
}

// shownDefault is f's default as a user would type it, or "" when it is
// empty, zero or false.
func shownDefault(f *pflag.Flag) string {
	d := f.DefValue
	if strings.HasSuffix(f.Value.Type(), "Slice") {
		d = strings.TrimSuffix(strings.TrimPrefix(d, "["), "]")
	}
	if f.Value.Type() == "float64Slice" && d != "" {
		parts := strings.Split(d, ",")
		for i, p := range parts {
			if x, err := strconv.ParseFloat(p, 64); err == nil {
				parts[i] = strconv.FormatFloat(x, 'g', -1, 64)
			}
		}
		d = strings.Join(parts, ",")
	}
	switch d {
	case "", "0", "0s", "false":
		return ""
	}
	if f.Value.Type() == "string" {
		return fmt.Sprintf("%q", d)
	}
	return d
}
