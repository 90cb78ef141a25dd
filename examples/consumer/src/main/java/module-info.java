/** The consumer example as a module: on the module path it reads hip-ffm's module, io.github.hipffm. */
module io.github.hipffm.example.consumer {
    requires io.github.hipffm;
}
