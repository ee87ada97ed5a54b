import OspreyTestSupport
import Testing

struct ReferenceStoreTests {
    @Test(arguments: StorageConformance.all)
    func referenceStorePassesConformance(_ check: StorageConformance) async throws {
        try await check.run(ReferenceStore())
    }
}
