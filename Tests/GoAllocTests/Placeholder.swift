import XCTest
final class GoAllocTestsPlaceholder: XCTestCase { func testBuilds() {} }
