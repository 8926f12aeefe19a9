/// One step of the schema, applied once and recorded in `schema_migrations`.
package struct Migration: Sendable {
    package var version: Int
    package var name: String
    package var statements: [String]
}
