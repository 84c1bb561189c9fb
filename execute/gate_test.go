package execute

import (
	"context"
	"testing"
	"time"
)

func TestScheduleGatePauseResume(t *testing.T) {
	jobs := []Job{{ID: "a"}, {ID: "b"}, {ID: "c"}, {ID: "d"}}
	sleep := map[string]time.Duration{}
	for _, j := range jobs {
		sleep[j.ID] = 30 * time.Millisecond
	}
	t.Run("paused worker takes nothing", func(t *testing.T) {
		g := NewWorkerGate()
		g.Pause(1)
		r := &fakeRunner{sleep: sleep}
		res, err := Schedule(context.Background(), jobs, 2, r.run, Hooks{Gate: g})
		if err != nil {
			t.Fatal(err)
		}
		for id, x := range res {
			if x.State != JobSucceeded || r.workers[id] != 0 {
				t.Errorf("%s: state %v on worker %d", id, x.State, r.workers[id])
			}
		}
		if r.maxCur != 1 {
			t.Errorf("max concurrency %d with one worker paused", r.maxCur)
		}
	})
	t.Run("all paused waits for resume", func(t *testing.T) {
		g := NewWorkerGate()
		g.Pause(0)
		r := &fakeRunner{sleep: sleep}
		done := make(chan map[string]*Result)
		go func() {
			res, _ := Schedule(context.Background(), jobs, 1, r.run, Hooks{Gate: g})
			done <- res
		}()
		select {
		case <-done:
			t.Fatal("Schedule returned while its only worker was paused")
		case <-time.After(100 * time.Millisecond):
		}
		g.Resume(0)
		select {
		case res := <-done:
			for id, x := range res {
				if x.State != JobSucceeded {
					t.Errorf("%s: state %v", id, x.State)
				}
			}
		case <-time.After(5 * time.Second):
			t.Fatal("Schedule did not resume")
		}
	})
	t.Run("cancel while all paused", func(t *testing.T) {
		g := NewWorkerGate()
		g.Pause(0)
		ctx, cancel := context.WithCancel(context.Background())
		r := &fakeRunner{sleep: sleep}
		go func() { time.Sleep(50 * time.Millisecond); cancel() }()
		res, err := Schedule(ctx, jobs, 1, r.run, Hooks{Gate: g})
		if err != nil {
			t.Fatal(err)
		}
		for id, x := range res {
			if x.State != JobNotStarted {
				t.Errorf("%s: state %v", id, x.State)
			}
		}
	})
}
