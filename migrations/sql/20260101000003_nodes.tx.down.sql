DROP TABLE outline_node_sessions;
DROP TABLE gateway_nodes;
DROP TABLE outline_nodes;
DROP TABLE regions;
