/** Where `exportflow dev --simulate` and `exportflow simulate` serve the vendor simulator unless told. */
export const SIMULATOR_DEFAULT_PORT = 8790;
