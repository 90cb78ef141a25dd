package io.github.hipffm.example.consumer;

import io.github.hipffm.Device;
import io.github.hipffm.Hip;
import io.github.hipffm.HipException;
import io.github.hipffm.HipUnavailableException;

/**
 * Prints the HIP runtime hip-ffm loaded and its devices. No runtime and no device are normal outcomes on a machine
 * without a GPU: each is said in one line and the program exits 0.
 */
public final class Main {
    public static void main(String[] args) {
        try {
            System.out.println("hip-ffm platform: " + Hip.platform());
            System.out.println("runtime: " + Hip.runtimeVersion() + " (" + Hip.library() + ")");
            for (Device d : Hip.devices()) {
                System.out.println("device " + d.ordinal() + ": " + d.name());
            }
        } catch (HipUnavailableException e) {   // no HIP or CUDA runtime installed: the message lists what was tried
            System.out.println("no runtime: " + e.getMessage());
        } catch (HipException e) {              // e.g. hipErrorNoDevice, or no driver on NVIDIA
            System.out.println("no device: " + e.getMessage());
        }
    }
}
