// metadata.db's schema steps for the search half (collections' documents and their indexes),
// from version 13 on; the earlier steps are in migrations.cc.
#pragma once

#include <string_view>

namespace argus::store::sqlite {

// Version 13: what follows a document's removal, and the text index.
// - A later tier's documents are made from a parent document (their source_id is its id):
//   removing the parent removes them, down every tier (the connection sets recursive_triggers),
//   and every removal moves its collection's generation, cascades from an object included, so
//   the index signature changes with every change of the documents.
// - documents_text: an FTS5 index (BM25) over documents.text as external content, kept by
//   triggers in the transaction of every document write; `unicode61 remove_diacritics 2` folds
//   case and accents. Documents written before this version are indexed by 'rebuild'.
inline constexpr std::string_view kSchemaV13 = R"sql(
CREATE INDEX documents_by_source ON documents(source_id);

CREATE VIRTUAL TABLE documents_text USING fts5(
  text, content = 'documents', content_rowid = 'key',
  tokenize = 'unicode61 remove_diacritics 2');

INSERT INTO documents_text(documents_text) VALUES ('rebuild');

CREATE TRIGGER document_added AFTER INSERT ON documents BEGIN
  INSERT INTO documents_text(rowid, text) VALUES (new.key, new.text);
END;

CREATE TRIGGER document_text_changed AFTER UPDATE OF text ON documents BEGIN
  INSERT INTO documents_text(documents_text, rowid, text) VALUES ('delete', old.key, old.text);
  INSERT INTO documents_text(rowid, text) VALUES (new.key, new.text);
END;

CREATE TRIGGER document_removed AFTER DELETE ON documents BEGIN
  INSERT INTO documents_text(documents_text, rowid, text) VALUES ('delete', old.key, old.text);
  DELETE FROM documents WHERE source_id = old.id;
  UPDATE collections SET generation = generation + 1 WHERE id = old.collection_id;
END;
)sql";

// Version 14: batches. Deleting the bucket (or the namespace) deletes its batches; their tasks
// live in the task queue and keep the batch's id as their parent_id.
inline constexpr std::string_view kSchemaV14 = R"sql(
CREATE TABLE batches (
  id TEXT PRIMARY KEY NOT NULL,
  namespace_id TEXT NOT NULL REFERENCES namespaces(id) ON DELETE CASCADE,
  bucket_id TEXT NOT NULL REFERENCES buckets(id) ON DELETE CASCADE,
  selection TEXT NOT NULL,
  collection_ids TEXT NOT NULL,
  status TEXT NOT NULL,
  objects INTEGER NOT NULL,
  progress TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL,
  submitted_at INTEGER NOT NULL,
  finished_at INTEGER NOT NULL
) STRICT;

CREATE INDEX batches_by_bucket ON batches(namespace_id, bucket_id, id);
)sql";

// Version 15: the vector journal can be trimmed. An index saved to a file only needs the
// changes after the seq it was saved at, so those before are deleted; vector_journal_floors keeps
// the highest seq trimmed per collection, so a reader from before it learns it must rebuild. A
// deleted collection's journal goes with it (removals cascading from it are not journaled).
inline constexpr std::string_view kSchemaV15 = R"sql(
CREATE TABLE vector_journal_floors (
  collection_id TEXT PRIMARY KEY NOT NULL,
  seq INTEGER NOT NULL
) STRICT, WITHOUT ROWID;

DROP TRIGGER document_vector_removed;
CREATE TRIGGER document_vector_removed AFTER DELETE ON document_vectors
WHEN EXISTS (SELECT 1 FROM collections WHERE id = old.collection_id) BEGIN
  INSERT INTO vector_changes(collection_id, key, feature, removed)
    VALUES (old.collection_id, old.key, old.feature, 1);
END;

CREATE TRIGGER collection_removed AFTER DELETE ON collections BEGIN
  DELETE FROM vector_changes WHERE collection_id = old.id;
  DELETE FROM vector_journal_floors WHERE collection_id = old.id;
END;
)sql";

// Version 16: payload indexes. payload_values holds, for every document, the values its
// collection's payload indexes take from it (filter.h IndexedValues: strings for keyword, REAL
// numbers for integer and float, 0/1 for bool, microseconds for datetime; ANY keeps each as
// stored), so a filter's conditions on indexed fields are index range reads. Rows go with their
// document by cascade. collections.payload_values_of is the payload_indexes text the rows were
// made for: until it equals payload_indexes (after this upgrade, or when the indexes change) the
// store does not read them, and brings them up to date (sqlite_payload_values.h).
inline constexpr std::string_view kSchemaV16 = R"sql(
CREATE TABLE payload_values (
  collection_id TEXT NOT NULL,
  field TEXT NOT NULL,
  value ANY NOT NULL,
  key INTEGER NOT NULL REFERENCES documents(key) ON DELETE CASCADE,
  PRIMARY KEY (collection_id, field, value, key)
) STRICT, WITHOUT ROWID;

CREATE INDEX payload_values_by_key ON payload_values(key);

ALTER TABLE collections ADD COLUMN payload_values_of TEXT NOT NULL DEFAULT '';
)sql";

}  // namespace argus::store::sqlite
