package record

import (
	"sort"
	"time"
)

// Stats summarise build attempts.
type Stats struct {
	Since    time.Time `json:"since,omitzero"`
	Runs     int       `json:"runs"`
	Attempts int       `json:"attempts"`
	Success  int       `json:"success"`
	Failed   int       `json:"failed"`
	Skipped  int       `json:"skipped"`
	Ignored  int       `json:"ignored"`
	// SuccessRate is Success / (Success + Failed), 0..1.
	SuccessRate float64 `json:"success_rate"`
	// TotalBuild and AverageBuild cover built attempts (success or failed).
	TotalBuild   time.Duration `json:"total_build_ns"`
	AverageBuild time.Duration `json:"average_build_ns"`
	// PkgsPerHour is successful packages per hour of run wall time.
	PkgsPerHour float64      `json:"pkgs_per_hour"`
	Slowest     []PortTime   `json:"slowest"`
	Busiest     *WorkerTotal `json:"busiest_worker,omitempty"`
}

// PortTime is one port's build duration.
type PortTime struct {
	NodeID   string        `json:"node_id"`
	Duration time.Duration `json:"duration_ns"`
	Status   string        `json:"status"`
}

// WorkerTotal is one worker number's totals across runs.
type WorkerTotal struct {
	Worker int           `json:"worker"`
	Builds int           `json:"builds"`
	Busy   time.Duration `json:"busy_ns"`
}

// ComputeStats summarises attempts and runs created at or after since
// (zero: all), listing the n slowest ports.
func ComputeStats(runs []*Run, attempts []*Attempt, since time.Time, n int) Stats {
	s := Stats{Since: since}
	var wall time.Duration
	for _, r := range runs {
		if !since.IsZero() && r.Start.Before(since) {
			continue
		}
		s.Runs++
		wall += r.Duration()
	}
	workers := map[int]*WorkerTotal{}
	var built []PortTime
	for _, a := range attempts {
		s.Attempts++
		switch a.Status {
		case AttemptSuccess:
			s.Success++
		case AttemptFailed:
			s.Failed++
		case AttemptSkipped:
			s.Skipped++
		case AttemptIgnored:
			s.Ignored++
		}
		if (a.Status == AttemptSuccess || a.Status == AttemptFailed) && a.Duration() > 0 {
			d := a.Duration()
			s.TotalBuild += d
			built = append(built, PortTime{NodeID: a.NodeID, Duration: d, Status: a.Status})
			w := workers[a.Worker]
			if w == nil {
				w = &WorkerTotal{Worker: a.Worker}
				workers[a.Worker] = w
			}
			w.Builds++
			w.Busy += d
		}
	}
	if s.Success+s.Failed > 0 {
		s.SuccessRate = float64(s.Success) / float64(s.Success+s.Failed)
	}
	if len(built) > 0 {
		s.AverageBuild = s.TotalBuild / time.Duration(len(built))
	}
	if wall > 0 {
		s.PkgsPerHour = float64(s.Success) / wall.Hours()
	}
	sort.SliceStable(built, func(i, j int) bool { return built[i].Duration > built[j].Duration })
	if len(built) > n {
		built = built[:n]
	}
	s.Slowest = built
	for _, w := range workers {
		if s.Busiest == nil || w.Busy > s.Busiest.Busy || (w.Busy == s.Busiest.Busy && w.Worker < s.Busiest.Worker) {
			s.Busiest = w
		}
	}
	return s
}
