-- The example story graph: characters, their relations, places and
-- foreshadowing, as the factory keeps them (in Neo4j in production).
-- story.db is built from this file: sqlite3 story.db < story.sql
CREATE TABLE characters (id INTEGER PRIMARY KEY, project TEXT NOT NULL, name TEXT NOT NULL, role TEXT);
CREATE TABLE relations (a INTEGER REFERENCES characters(id), b INTEGER REFERENCES characters(id), kind TEXT, since_episode INTEGER);
CREATE TABLE places (id INTEGER PRIMARY KEY, project TEXT NOT NULL, name TEXT NOT NULL);
CREATE TABLE foreshadowing (id INTEGER PRIMARY KEY, project TEXT NOT NULL, planted_episode INTEGER, paid_off_episode INTEGER, note TEXT);
INSERT INTO characters VALUES (1, 'Pilot', '하윤', '사서'), (2, 'Pilot', '잉크 소년', '안내자'), (3, 'Ember', '도윤', '대장장이');
INSERT INTO relations VALUES (1, 2, '안내', 2);
INSERT INTO places VALUES (1, 'Pilot', '서고'), (2, 'Pilot', '쓰이지 않은 책들의 방'), (3, 'Ember', '대장간');
INSERT INTO foreshadowing VALUES (1, 'Pilot', 1, 10, '문 너머의 페이지 넘기는 소리'), (2, 'Ember', 1, NULL, '꺼지지 않는 불씨');
