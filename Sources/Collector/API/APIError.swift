import Foundation
import HTTPTypes
import Hummingbird
import NIOCore

/// An API failure: a status and a `{"detail": …}` body, the one error shape of the collector's API.
package struct APIError: HTTPResponseError {
    package var status: HTTPResponse.Status
    package var detail: String

    package init(_ status: HTTPResponse.Status, _ detail: String) {
        self.status = status
        self.detail = detail
    }

    package func response(from request: Request, context: some RequestContext) throws -> Response {
        try JSONResponse.make(["detail": detail], status: status)
    }
}

/// JSON responses, encoded one way everywhere.
package enum JSONResponse {
    package static func make<T: Encodable>(_ value: T, status: HTTPResponse.Status = .ok, headers: HTTPFields = [:]) throws
        -> Response
    {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.withoutEscapingSlashes, .sortedKeys]
        let data = try encoder.encode(value)
        var fields = headers
        fields[.contentType] = "application/json"
        return Response(status: status, headers: fields, body: ResponseBody(byteBuffer: ByteBuffer(bytes: data)))
    }

    /// Records as a JSON array, written directly (the read path's hot spot was `JSONEncoder`).
    package static func records(_ records: [CallRecord]) -> Response {
        Response(
            status: .ok, headers: [.contentType: "application/json"],
            body: ResponseBody(byteBuffer: ByteBuffer(bytes: CallRecord.jsonArray(records))))
    }

    /// A JSON value written by `JSONWriter` (keys sorted).
    package static func value(_ value: JSONValue) -> Response {
        var bytes: [UInt8] = []
        JSONWriter.write(value, to: &bytes)
        return Response(
            status: .ok, headers: [.contentType: "application/json"], body: ResponseBody(byteBuffer: ByteBuffer(bytes: bytes)))
    }

    /// One record as a JSON object.
    package static func record(_ record: CallRecord) -> Response {
        var bytes: [UInt8] = []
        record.appendJSON(to: &bytes)
        return Response(
            status: .ok, headers: [.contentType: "application/json"], body: ResponseBody(byteBuffer: ByteBuffer(bytes: bytes)))
    }
}
