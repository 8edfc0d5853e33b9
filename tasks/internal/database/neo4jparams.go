package database

// Neo4jAdminParams say how dump and load run neo4j-admin (inlined).
type Neo4jAdminParams struct {
	// neo4j: the neo4j-admin command line, when it is installed.
	Neo4jAdmin []string `yaml:"neo4j_admin" json:"neo4j_admin"`
	// neo4j: run neo4j-admin in a one-off container of this image instead, e.g. neo4j:5.26-community (its version must match the server's).
	Neo4jImage string `yaml:"neo4j_image" json:"neo4j_image"`
	// neo4j: the server's data volume (or folder), mounted at /data in the one-off container.
	Neo4jVolume string `yaml:"neo4j_volume" json:"neo4j_volume"`
}

// Admin is how the params say to run neo4j-admin.
func (p Neo4jAdminParams) Admin() Neo4jAdmin {
	return Neo4jAdmin{Command: p.Neo4jAdmin, Image: p.Neo4jImage, Volume: p.Neo4jVolume}
}
