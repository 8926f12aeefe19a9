import PostgresNIO

/// A one-dimensional Postgres array whose elements may be NULL, bound as one parameter.
///
/// postgres-nio encodes `[T]` but not `[T?]`; a batch insert `unnest`s one of these per column. The array is
/// encoded when it is made, where the element type is known: the bindings hold it as an existential, and a
/// generic loop over the elements there costs more than the copy of the finished bytes.
struct PostgresNullableArray<Element: PostgresArrayEncodable & PostgresNonThrowingEncodable>: PostgresNonThrowingEncodable,
    Sendable
where Element: Sendable {
    private let encoded: ByteBuffer

    init(_ elements: [Element?]) {
        var buffer = ByteBuffer()
        Self.encode(elements, into: &buffer)
        encoded = buffer
    }

    static var psqlType: PostgresDataType { Element.psqlArrayType }
    static var psqlFormat: PostgresFormat { .binary }

    func encode<JSONEncoder: PostgresJSONEncoder>(into buffer: inout ByteBuffer, context: PostgresEncodingContext<JSONEncoder>) {
        buffer.writeImmutableBuffer(encoded)
    }

    /// The binary array format of `array_recv`: header, one dimension, then each element as length and bytes (-1 for NULL).
    private static func encode(_ elements: [Element?], into buffer: inout ByteBuffer) {
        buffer.writeInteger(elements.isEmpty ? 0 : 1, as: Int32.self)
        buffer.writeInteger(elements.contains(where: { $0 == nil }) ? 1 : 0, as: Int32.self)
        buffer.writeInteger(Element.psqlType.rawValue)
        guard !elements.isEmpty else { return }
        buffer.writeInteger(Int32(elements.count))
        buffer.writeInteger(1, as: Int32.self)
        for element in elements {
            guard let element else {
                buffer.writeInteger(-1, as: Int32.self)
                continue
            }
            let lengthIndex = buffer.writerIndex
            buffer.writeInteger(0, as: Int32.self)
            element.encode(into: &buffer, context: .default)
            buffer.setInteger(Int32(buffer.writerIndex - lengthIndex - 4), at: lengthIndex)
        }
    }
}
