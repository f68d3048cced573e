package main

import (
	"bytes"
	"os/exec"
	"regexp"
	"strings"
	"testing"
)

// leaks are pflag type names and empty defaults that must never reach a
// user's screen.
var leaks = regexp.MustCompile(`float64Slice|int64Slice|intSlice|stringSlice|durationSlice|float64|int64|uint64|\(default \[\]\)|\(default ""\)|\(default 0\)`)

// TestHelpEverywhere runs --help, -h and help on every command and
// subcommand of the built binary: each prints to stdout, nothing to stderr,
// exits 0, lists a group's subcommands one line each, and leaks no flag
// types or empty defaults.
func TestHelpEverywhere(t *testing.T) {
	bin := chaindBinary(t)
	var walk func(path []string, cmds []command)
	checked := 0
	walk = func(path []string, cmds []command) {
		for _, c := range cmds {
			p := append(append([]string(nil), path...), c.name)
			for _, h := range []string{"--help", "-h"} {
				out := runHelp(t, bin, append(p, h)...)
				checked++
				if c.subs != nil {
					for _, sub := range c.subs {
						line := regexp.MustCompile(`(?m)^  ` + regexp.QuoteMeta(sub.name) + ` +` + regexp.QuoteMeta(sub.summary) + `$`)
						if !line.MatchString(out) {
							t.Errorf("%s %s does not list %q on one line:\n%s", strings.Join(p, " "), h, sub.name, out)
						}
					}
				} else if !strings.HasPrefix(out, "Usage: chaind "+strings.Join(p, " ")) {
					t.Errorf("%s %s: want a usage line first, got:\n%s", strings.Join(p, " "), h, out)
				}
			}
			if c.subs != nil {
				runHelp(t, bin, append(p, "help")...)
				walk(p, c.subs)
			}
		}
	}
	for _, args := range [][]string{nil, {"--help"}, {"-h"}, {"help"}} {
		out := runHelp(t, bin, args...)
		for _, c := range commands() {
			if !strings.Contains(out, "\n  "+c.name+" ") {
				t.Errorf("chaind %v does not list %s:\n%s", args, c.name, out)
			}
		}
	}
	walk(nil, commands())
	if checked < 40 {
		t.Fatalf("only %d help screens checked", checked)
	}
}

// runHelp runs bin with args and checks that it answered on stdout alone,
// with exit status 0 and no leaked types.
func runHelp(t *testing.T, bin string, args ...string) string {
	t.Helper()
	var stdout, stderr bytes.Buffer
	cmd := exec.Command(bin, args...)
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Errorf("chaind %s: %v (stderr %q)", strings.Join(args, " "), err, stderr.String())
	}
	if stderr.Len() > 0 {
		t.Errorf("chaind %s wrote to stderr: %q", strings.Join(args, " "), stderr.String())
	}
	if stdout.Len() == 0 {
		t.Errorf("chaind %s printed nothing", strings.Join(args, " "))
	}
	if m := leaks.FindString(stdout.String()); m != "" {
		t.Errorf("chaind %s leaks %q:\n%s", strings.Join(args, " "), m, stdout.String())
	}
	return stdout.String()
}

// TestUnknownCommandFails checks the other side: a wrong command lists the
// commands on stderr and exits 1.
func TestUnknownCommandFails(t *testing.T) {
	bin := chaindBinary(t)
	for _, args := range [][]string{{"nosuch"}, {"wallet"}, {"testnet", "nosuch"}, {"node", "--nosuch"}} {
		var stdout, stderr bytes.Buffer
		cmd := exec.Command(bin, args...)
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		err := cmd.Run()
		if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 1 {
			t.Errorf("chaind %v: want exit status 1, got %v", args, err)
		}
		if stdout.Len() != 0 || stderr.Len() == 0 {
			t.Errorf("chaind %v: want the error on stderr only; stdout %q stderr %q", args, stdout.String(), stderr.String())
		}
	}
}

// TestSimHelpNamesBothEngines: sim compare runs PoW and PoS variants, and
// the group's help says so.
func TestSimHelpNamesBothEngines(t *testing.T) {
	out := runHelp(t, chaindBinary(t), "sim", "--help")
	line := regexp.MustCompile(`(?m)^  compare .*$`).FindString(out)
	if !strings.Contains(line, "proof of stake") || strings.Contains(line, "so far") {
		t.Fatalf("sim --help describes compare as %q", line)
	}
}
