package testnet

// Who owns a testnet directory: the supervisor holds an exclusive lock on
// DIR/supervisor.lock for as long as it runs, with its pid inside, so a
// second supervisor and 'testnet down' find it whatever happened to the
// other files. A directory that holds a testnet from an earlier run is
// continued only when asked (Options.Resume) or cleared (Options.Force).

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
)

// lockFile is the supervisor's lock and pid file in the testnet directory.
const lockFile = "supervisor.lock"

// ErrHoldsTestnet is returned by Up for a directory that holds a testnet
// from an earlier run when neither Options.Resume nor Options.Force is set.
var ErrHoldsTestnet = errors.New("holds a testnet from an earlier run")

// RunningError says that a supervisor already runs in a directory.
type RunningError struct {
	Dir string
	PID int
}

func (e *RunningError) Error() string {
	return fmt.Sprintf("testnet: a supervisor (pid %d) is already running in %s; stop it with 'chaind testnet down --dir %s'", e.PID, e.Dir, e.Dir)
}

// dirLock is a held lock on a testnet directory.
type dirLock struct {
	mu sync.Mutex
	f  *os.File
}

// lockDir takes the directory's lock and writes this process's pid into
// it, or returns a *RunningError naming the supervisor that holds it.
func lockDir(dir string) (*dirLock, error) {
	l, err := openLock(dir, os.O_RDWR|os.O_CREATE)
	if err != nil {
		return nil, err
	}
	if err := l.f.Truncate(0); err != nil {
		l.release()
		return nil, fmt.Errorf("testnet: %w", err)
	}
	if _, err := l.f.WriteAt([]byte(strconv.Itoa(os.Getpid())+"\n"), 0); err != nil {
		l.release()
		return nil, fmt.Errorf("testnet: %w", err)
	}
	return l, nil
}

// openLock opens and locks the lock file, or returns a *RunningError.
func openLock(dir string, flag int) (*dirLock, error) {
	f, err := os.OpenFile(filepath.Join(dir, lockFile), flag, 0o644)
	if err != nil {
		return nil, fmt.Errorf("testnet: %w", err)
	}
	ok, err := tryLock(f)
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("testnet: lock %s: %w", f.Name(), err)
	}
	if !ok {
		pid := readPID(f)
		f.Close()
		return nil, &RunningError{Dir: dir, PID: pid}
	}
	return &dirLock{f: f}, nil
}

// release lets the next supervisor have the directory. The pid stays in
// the file; only the lock says whether it runs.
func (l *dirLock) release() {
	if l == nil {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.f != nil {
		l.f.Close()
		l.f = nil
	}
}

func readPID(f *os.File) int {
	buf := make([]byte, 32)
	n, _ := f.ReadAt(buf, 0)
	pid, _ := strconv.Atoi(strings.TrimSpace(string(buf[:n])))
	return pid
}

// SupervisorPID returns the pid of the supervisor running in dir, found by
// its lock; ok is false when none runs there.
func SupervisorPID(dir string) (pid int, ok bool, err error) {
	l, err := openLock(dir, os.O_RDWR) // no lock file: no supervisor ever ran there
	var running *RunningError
	switch {
	case errors.As(err, &running):
		return running.PID, true, nil
	case errors.Is(err, os.ErrNotExist):
		return 0, false, nil
	case err != nil:
		return 0, false, err
	}
	l.release()
	return 0, false, nil
}

// holdsTestnet reports whether dir holds a testnet written by an earlier run.
func holdsTestnet(dir string) bool {
	_, err := os.Stat(filepath.Join(dir, "genesis.json"))
	return err == nil
}

// runFile matches the files and directories a testnet run writes into its
// directory (besides the lock and the detached supervisor's log).
var runFile = regexp.MustCompile(`^(genesis\.json|funded\.key|password\.txt|testnet\.json|node\d+|records\.json(\.gz)?(\.tmp)?|report\.(md|json)|dashboard\.html|prometheus|[a-z0-9-]+\.svg)$`)

// clearTestnet removes what an earlier run wrote into dir, and nothing else.
func clearTestnet(dir string) error {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return fmt.Errorf("testnet: %w", err)
	}
	for _, e := range entries {
		if runFile.MatchString(e.Name()) {
			if err := os.RemoveAll(filepath.Join(dir, e.Name())); err != nil {
				return fmt.Errorf("testnet: clear %s: %w", dir, err)
			}
		}
	}
	return nil
}

// claimDir takes dir for a new supervisor: it refuses a running testnet,
// and a stopped one unless opts says to resume or clear it.
func claimDir(opts Options) (*dirLock, error) {
	if err := os.MkdirAll(opts.Dir, 0o755); err != nil {
		return nil, fmt.Errorf("testnet: %w", err)
	}
	l, err := lockDir(opts.Dir)
	if err != nil {
		return nil, err
	}
	if err := checkReuse(opts); err != nil {
		l.release()
		return nil, err
	}
	if opts.Force {
		if err := clearTestnet(opts.Dir); err != nil {
			l.release()
			return nil, err
		}
	}
	return l, nil
}

// checkReuse refuses a directory that holds an earlier testnet unless
// opts.Resume or opts.Force says what to do with it.
func checkReuse(opts Options) error {
	if !holdsTestnet(opts.Dir) || opts.Force {
		return nil
	}
	if !opts.Resume {
		return fmt.Errorf("testnet: %s %w; --resume continues its chain (the report covers only the new run), --force deletes it and starts a new one, or choose another --dir",
			opts.Dir, ErrHoldsTestnet)
	}
	return nil
}

// CheckDir says, without changing anything, whether Up would refuse
// opts.Dir: a supervisor runs there, or it holds an earlier testnet and
// neither Resume nor Force is set. The CLI asks before it detaches.
func CheckDir(opts Options) error {
	if pid, ok, err := SupervisorPID(opts.Dir); err != nil {
		return err
	} else if ok {
		return &RunningError{Dir: opts.Dir, PID: pid}
	}
	return checkReuse(opts)
}
