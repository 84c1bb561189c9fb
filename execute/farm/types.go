package farm

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"
	"time"

	"github.com/go-dsynth/dsynth/execute"
)

// Names shared by controller and build hosts.
const (
	// WorkflowName and ActivityName are the registered names.
	WorkflowName = "dsynth.BuildPort"
	ActivityName = "dsynth.BuildPortActivity"
	// WorkflowQueue is the task queue of the workflows (the controller and
	// every build host run them).
	WorkflowQueue = "dsynth-workflows"
	// MaxAttempts bounds how many build hosts a port is tried on when
	// they are lost mid-build.
	MaxAttempts = 3
	// DefaultHeartbeat is the heartbeat timeout: a host silent that long
	// is lost.
	DefaultHeartbeat = 30 * time.Second
)

// ABI is a build ABI: the task queue of the builds for it.
type ABI struct{ OPSYS, ARCH, OSVERSION string }

func (a ABI) String() string { return a.OPSYS + "-" + a.ARCH + "-" + a.OSVERSION }

// Queue is the task queue of the port builds for a.
func (a ABI) Queue() string { return "dsynth-build-" + a.String() }

// ParseABI reads OPSYS-ARCH-OSVERSION.
func ParseABI(s string) (ABI, error) {
	f := strings.Split(s, "-")
	if len(f) != 3 || f[0] == "" || f[1] == "" || f[2] == "" {
		return ABI{}, fmt.Errorf("build ABI %q: want OPSYS-ARCH-OSVERSION, e.g. FreeBSD-amd64-1402000", s)
	}
	return ABI{f[0], f[1], f[2]}, nil
}

// ABIOf is the ABI of a make environment (the plan's stand-ins).
func ABIOf(vars map[string]string) ABI {
	return ABI{vars["OPSYS"], vars["ARCH"], vars["OSVERSION"]}
}

// Job is the activity input: one port build.
type Job struct {
	// Key names the build on the package server (upload, log, phase): a
	// hash of the workflow ID.
	Key    string `json:"key"`
	NodeID string `json:"node_id"`
	// Plan is the port's part of the plan (execute.Jobs.Plan), as JSON.
	Plan []byte `json:"plan"`
	// Packages maps the package files to install first to their SHA-256.
	Packages map[string]string `json:"packages"`
	// Server is the package server's base URL, Token its bearer token.
	Server string `json:"server"`
	Token  string `json:"token"`
	Queue  string `json:"queue"`
	// Heartbeat is the heartbeat timeout.
	Heartbeat time.Duration `json:"heartbeat_ns"`
}

// Beat is what a build heartbeats: where it runs and in which phase.
type Beat struct {
	Host  string `json:"host"`
	Phase string `json:"phase"`
}

// Result is the activity's (and the workflow's) result.
type Result struct {
	Host          string              `json:"host"`
	OK            bool                `json:"ok"`
	Phase         string              `json:"phase,omitempty"`
	Err           string              `json:"err,omitempty"`
	Interrupted   bool                `json:"interrupted,omitempty"`
	Phases        []execute.PhaseTime `json:"phases,omitempty"`
	DepsInstalled []string            `json:"deps_installed,omitempty"`
	Env           []string            `json:"env,omitempty"`
	MakeArgs      []string            `json:"make_args,omitempty"`
	PkgFile       string              `json:"pkgfile,omitempty"`
	Size          int64               `json:"size,omitempty"`
	SHA256        string              `json:"sha256,omitempty"`
	Start         time.Time           `json:"start"`
	End           time.Time           `json:"end"`
	// Lost are the attempts lost with their hosts before this one.
	Lost []execute.LostAttempt `json:"lost,omitempty"`
}

// WorkflowID is the ID of the build of node with input key inputKey by
// the controller of farm (FarmID: one build base), after n finished
// (recorded success or failed) builds of the same: fixed, so that a
// controller started again while it runs (or before it recorded its end)
// finds it again, and new once recorded.
func WorkflowID(farm, node, inputKey string, n int) string {
	if len(inputKey) > 16 {
		inputKey = inputKey[:16]
	}
	return fmt.Sprintf("dsynth/%s/%s/%s/%d", farm, node, inputKey, n)
}

// FarmID names a controller's farm in workflow IDs: from its token, so
// the same across its restarts and different for another build base.
func FarmID(profile, token string) string {
	s := sha256.Sum256([]byte(token))
	return profile + "-" + hex.EncodeToString(s[:6])
}

// KeyOf is the package server's name for a workflow's build.
func KeyOf(workflowID string) string {
	s := sha256.Sum256([]byte(workflowID))
	return hex.EncodeToString(s[:12])
}
