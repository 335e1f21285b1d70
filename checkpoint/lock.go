package checkpoint

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"time"
)

// Lock keeps a second harvest off an output folder. It is an flock on
// DIR/_adharvest/lock (LockFileEx on Windows: see tryLock), so the kernel
// releases it when the owner dies, even by kill -9: a stale lock file is
// simply taken over. The file records who holds it, for the message the
// loser sees.
type Lock struct {
	f *os.File
}

// ReadOwner reads who holds (or last held) the lock file at path.
func ReadOwner(path string) (Owner, bool) {
	var o Owner
	b, err := os.ReadFile(path)
	if err != nil || json.Unmarshal(b, &o) != nil || o.PID == 0 {
		return o, false
	}
	return o, true
}

// Owner is what a lock file records.
type Owner struct {
	PID     int       `json:"pid"`
	Host    string    `json:"host"`
	Started time.Time `json:"started"`
}

// LockedError says who holds the lock.
type LockedError struct {
	Dir   string
	Owner Owner
}

func (e *LockedError) Error() string {
	if e.Owner.PID == 0 {
		return fmt.Sprintf("%s is in use by another adharvest process; wait for it to finish or stop it", e.Dir)
	}
	return fmt.Sprintf("%s is in use by adharvest pid %d on %s since %s; wait for it to finish or stop it (kill %d)",
		e.Dir, e.Owner.PID, e.Owner.Host, e.Owner.Started.Format(time.RFC3339), e.Owner.PID)
}

func (e *LockedError) Is(target error) bool { return target == ErrBusy }

// Acquire takes the lock file at path without waiting. dir names the folder
// the lock keeps, for the message a loser sees.
func Acquire(path, dir string) (*Lock, error) {
	p := path
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		return nil, err
	}
	f, err := os.OpenFile(p, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, fmt.Errorf("open lock %s: %w", p, err)
	}
	if busy, err := tryLock(f); err != nil {
		var o Owner
		if b, rerr := os.ReadFile(p); rerr == nil {
			_ = json.Unmarshal(b, &o)
		}
		f.Close()
		if busy {
			return nil, &LockedError{Dir: dir, Owner: o}
		}
		return nil, fmt.Errorf("lock %s: %w", p, err)
	}
	host, _ := os.Hostname()
	b, _ := json.Marshal(Owner{PID: os.Getpid(), Host: host, Started: time.Now().UTC()})
	if err := f.Truncate(0); err == nil {
		_, _ = f.WriteAt(b, 0)
	}
	return &Lock{f: f}, nil
}

// Release drops the lock.
func (l *Lock) Release() error {
	if l == nil || l.f == nil {
		return nil
	}
	_ = l.f.Truncate(0)
	err := l.f.Close()
	l.f = nil
	return err
}
