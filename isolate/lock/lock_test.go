package lock_test

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/go-dsynth/dsynth/isolate/lock"
)

// A child process holding the lock: the test binary re-executed.
func TestMain(m *testing.M) {
	if base := os.Getenv("LOCK_TEST_HOLD"); base != "" {
		if _, err := lock.TryLock(base, nil); err != nil {
			fmt.Println("error:", err)
			os.Exit(1)
		}
		fmt.Println("locked")
		time.Sleep(time.Minute)
		os.Exit(0)
	}
	os.Exit(m.Run())
}

func TestLockCycle(t *testing.T) {
	base := t.TempDir() + "/build"
	release, err := lock.TryLock(base, nil)
	if err != nil {
		t.Fatal(err)
	}
	pid, live, err := lock.Holder(base)
	if err != nil || !live || pid != os.Getpid() {
		t.Fatalf("Holder = %d %v %v, want %d live", pid, live, err, os.Getpid())
	}
	_, err = lock.TryLock(base, nil)
	var held *lock.HeldError
	if !errors.As(err, &held) || held.PID != os.Getpid() {
		t.Fatalf("second TryLock: %v, want HeldError with our pid", err)
	}
	if err := release(); err != nil {
		t.Fatal(err)
	}
	if pid, live, _ := lock.Holder(base); live || pid != 0 {
		t.Fatalf("after release Holder = %d %v", pid, live)
	}
	release, err = lock.TryLock(base, nil)
	if err != nil {
		t.Fatalf("relock: %v", err)
	}
	release()
}

func TestLockHeldByOtherProcessAndTakeover(t *testing.T) {
	base := t.TempDir()
	exe, _ := os.Executable()
	cmd := exec.Command(exe)
	cmd.Env = append(os.Environ(), "LOCK_TEST_HOLD="+base)
	out, _ := cmd.StdoutPipe()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 7)
	if _, err := out.Read(buf); err != nil || string(buf) != "locked\n" {
		t.Fatalf("child: %q %v", buf, err)
	}
	_, err := lock.TryLock(base, nil)
	var held *lock.HeldError
	if !errors.As(err, &held) || held.PID != cmd.Process.Pid {
		t.Fatalf("TryLock with live holder: %v, want HeldError pid %d", err, cmd.Process.Pid)
	}
	if !strings.Contains(err.Error(), fmt.Sprint(cmd.Process.Pid)) {
		t.Errorf("error %q does not name the holder", err)
	}
	cmd.Process.Kill()
	cmd.Wait()

	var warned string
	release, err := lock.TryLock(base, func(m string) { warned = m })
	if err != nil {
		t.Fatalf("takeover: %v", err)
	}
	defer release()
	if !strings.Contains(warned, fmt.Sprint(cmd.Process.Pid)) {
		t.Errorf("takeover warning %q does not name the dead holder %d", warned, cmd.Process.Pid)
	}
}
