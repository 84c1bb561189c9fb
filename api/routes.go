package api

import "github.com/go-dsynth/dsynth/record"

// buildRoutes is the endpoint table: the router, the authorisation and
// the OpenAPI test read it.
func (s *Server) buildRoutes() []route {
	R, B, A := record.RoleRead, record.RoleBuild, record.RoleAdmin
	rs := []route{
		{method: "GET", path: "/builds", role: R, h: s.listBuilds},
		{method: "POST", path: "/builds", role: B, h: s.postBuild, body: bodyJSONOrPlan},
		{method: "GET", path: "/builds/{id}", role: R, h: s.getBuild},
		{method: "DELETE", path: "/builds/{id}", role: B, h: s.cancelBuild},
		{method: "POST", path: "/builds/{id}/retry", role: B, h: s.retryBuild},
		{method: "GET", path: "/queue", role: R, h: s.getQueue},
		{method: "POST", path: "/queue", role: B, h: s.postQueue, body: bodyJSON},
		{method: "DELETE", path: "/queue/{id}", role: B, h: s.deleteQueue},
		{method: "POST", path: "/plans", role: B, h: s.postPlan, body: bodyJSON},
		{method: "GET", path: "/plans/{digest}", role: R, h: s.getPlan},
		{method: "GET", path: "/packages", role: R, h: s.listPackages},
		{method: "GET", path: "/packages/{origin}", role: R, h: s.getPackage},
		{method: "GET", path: "/packages/{origin}/deps", role: R, h: s.getPackageDeps},
		{method: "GET", path: "/packages/{origin}/history", role: R, h: s.getPackageHistory},
		{method: "GET", path: "/packages/{origin}/status", role: R, h: s.getPackageStatus},
		{method: "GET", path: "/workers", role: R, h: s.listWorkers},
		{method: "GET", path: "/workers/{id}", role: R, h: s.getWorker},
		{method: "POST", path: "/workers/{id}/pause", role: B, h: s.pauseWorker},
		{method: "POST", path: "/workers/{id}/resume", role: B, h: s.resumeWorker},
		{method: "GET", path: "/workers/{id}/log", role: R, h: s.workerLog},
		{method: "GET", path: "/status", role: R, h: s.getStatus},
		{method: "GET", path: "/stats", role: R, h: s.getStats},
		{method: "GET", path: "/stats/today", role: R, h: s.getStatsToday},
		{method: "GET", path: "/stats/package/{origin}", role: R, h: s.getStatsPackage},
		{method: "GET", path: "/logs/{build_id}", role: R, h: s.getLog},
		{method: "GET", path: "/logs/{build_id}/stream", role: R, h: s.streamLog, stream: true},
		{method: "GET", path: "/artifacts/{build_id}", role: R, h: s.getArtifact},
		{method: "GET", path: "/config", role: R, h: s.getConfig},
		{method: "GET", path: "/config/profiles", role: R, h: s.getProfiles},
		{method: "GET", path: "/repository", role: R, h: s.getRepository},
		{method: "GET", path: "/farm", role: R, h: s.getFarm},
		{method: "POST", path: "/repository", role: B, h: s.postRepository},
		{method: "GET", path: "/database/operations", role: R, h: s.getOperations},
		{method: "GET", path: "/database/stats", role: R, h: s.getDBStats},
		{method: "POST", path: "/database/clean", role: A, h: s.cleanDB},
		{method: "GET", path: "/database/export", role: A, h: s.exportDB},
		{method: "GET", path: "/events", role: R, h: s.events, stream: true},
		{method: "GET", path: "/openapi.json", role: R, h: s.openAPI},
	}
	for i := range rs {
		rs[i].segs = splitPath(rs[i].path)
	}
	return rs
}
