import OspreyEncoding
import Testing

struct EncodingErrorTests {
    @Test func descriptionNamesCodeMessageAndOffset() {
        let error = EncodingError(code: .truncated, message: "need 4 bytes", offset: 17)
        #expect(error.description == "truncated: need 4 bytes (at byte 17)")
    }

    @Test func equalityConsidersEveryField() {
        let base = EncodingError(code: .corrupt, message: "x", offset: 1)
        #expect(base == EncodingError(code: .corrupt, message: "x", offset: 1))
        #expect(base != EncodingError(code: .overflow, message: "x", offset: 1))
        #expect(base != EncodingError(code: .corrupt, message: "y", offset: 1))
        #expect(base != EncodingError(code: .corrupt, message: "x", offset: 2))
    }
}
