package main

import (
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// TestE2ENice: workers.nice of the profile reaches the build commands in
// the slot (spec -> plan -> execute -> isolate.Cmd.Nice).
func TestE2ENice(t *testing.T) {
	dir := e2eSetup(t, "misc/nicecheck")
	port := filepath.Join(dir, "ports", "misc", "nicecheck")
	if err := os.MkdirAll(port, 0o755); err != nil {
		t.Fatal(err)
	}
	mk := "PORTNAME=\tnicecheck\nPORTVERSION=\t1.0\nCATEGORIES=\tmisc\nCOMMENT=\tPrints the niceness of its build\nPLIST_FILES=\tshare/nicecheck\n\n" +
		"do-build:\n\t@echo \"NICENESS=$$(cut -d' ' -f19 /proc/self/stat)\"\n\n" +
		"do-install:\n\tmkdir -p ${STAGEDIR}${PREFIX}/share && echo x > ${STAGEDIR}${PREFIX}/share/nicecheck\n\n" +
		".include \"${PORTSDIR}/Mk/bsd.port.mk\"\n"
	if err := os.WriteFile(filepath.Join(port, "Makefile"), []byte(mk), 0o644); err != nil {
		t.Fatal(err)
	}
	prof := filepath.Join(dir, "p.hcl")
	b, err := os.ReadFile(prof)
	if err != nil {
		t.Fatal(err)
	}
	src := strings.Replace(string(b), "max_jobs = 1\n", "max_jobs = 1\n    nice     = 7\n", 1)
	if src == string(b) {
		t.Fatal("could not add nice to the e2e profile")
	}
	if err := os.WriteFile(prof, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	out, code := dsynth(t, dir, "apply", "-auto-approve", "p.hcl")
	mustCode(t, out, code, 0, "apply")
	logs, _ := filepath.Glob(filepath.Join(dir, "base", "logs", "*"))
	var found []string
	re := regexp.MustCompile(`NICENESS=(-?\d+)`)
	filepath.Walk(filepath.Join(dir, "base", "logs"), func(p string, fi os.FileInfo, err error) error {
		if err == nil && fi.Mode().IsRegular() {
			if data, err := os.ReadFile(p); err == nil {
				for _, m := range re.FindAllStringSubmatch(string(data), -1) {
					found = append(found, m[1])
				}
			}
		}
		return nil
	})
	// nice adds to the niceness dsynth runs with (this test's).
	stat, err := os.ReadFile("/proc/self/stat")
	if err != nil {
		t.Fatal(err)
	}
	fields := strings.Fields(string(stat[strings.LastIndexByte(string(stat), ')')+2:]))
	cur, _ := strconv.Atoi(fields[16]) // field 19 of stat
	want := strconv.Itoa(min(cur+7, 19))
	if len(found) != 1 || found[0] != want {
		t.Errorf("niceness in the build log: %q, want [%q] (logs %v)", found, want, logs)
	}
	noLeftovers(t, filepath.Join(dir, "base"))
}
