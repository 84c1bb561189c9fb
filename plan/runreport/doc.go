// Package runreport is plan versus actual for one recorded run: each port
// of the run's plan with its planned action and what its latest attempt
// in the run did, and whether that is what the plan announced. `dsynth
// show RUN` and GET /api/v1/builds/{id} render the same Report.
package runreport
