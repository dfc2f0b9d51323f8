import XCTest
final class GoMallocTestsPlaceholder: XCTestCase { func testBuilds() {} }
