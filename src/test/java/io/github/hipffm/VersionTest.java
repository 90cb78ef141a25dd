package io.github.hipffm;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

class VersionTest {
    @Test
    void decodesHipAndCudaEncodings() {
        Version hip = Version.decode(Platform.AMD, 60443483);
        assertEquals(6, hip.major());
        assertEquals(4, hip.minor());
        assertEquals(43483, hip.patch());
        assertEquals("6.4.43483", hip.toString());
        Version cuda = Version.decode(Platform.NVIDIA, 13000);
        assertEquals("13.0", cuda.toString());
        assertEquals(12, Version.decode(Platform.NVIDIA, 12080).major());
        assertEquals(8, Version.decode(Platform.NVIDIA, 12080).minor());
    }

    @Test
    void platformIds() {
        assertEquals(Platform.AMD, Platform.ofId("AMD"));
        assertEquals(Platform.NVIDIA, Platform.ofId(" nvidia "));
        assertEquals(Platform.AMD, Platform.ofId("hcc"));
        var e = assertThrows(IllegalArgumentException.class, () -> Platform.ofId("intel"));
        assertEquals("HIP_PLATFORM='intel' is not a platform: use 'amd' or 'nvidia'", e.getMessage());
    }

    @Test
    void pciAddressParsesRuntimeStrings() {
        var a = Device.PciAddress.parse("0000:c1:00.0");
        assertEquals(new Device.PciAddress(0, 0xc1, 0, 0), a);
        assertEquals("0000:c1:00.0", a.toString());
        assertThrows(IllegalArgumentException.class, () -> Device.PciAddress.parse("c1:00"));
    }
}
