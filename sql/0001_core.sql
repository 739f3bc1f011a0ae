-- 0001_core: the tables the ingest chain (CU1-CU4) needs, modelled on the WSA schema.
--
-- Names keep the WSA spelling (multiframeID, photZPCat, ...) and are unquoted, so PostgreSQL
-- folds them to lower case: write them either way in queries.
-- Null defaults follow the WSA (formats/casu-wfcam.md section 4): real/double -0.9999995e9,
-- integer/bigint -99999999, smallint -9999, varchar 'NONE'. Columns a loader must always
-- supply (keys, cuEventID) have no default.

CREATE EXTENSION IF NOT EXISTS q3c;

-- Passbands. centralWavelength in microns.
CREATE TABLE Filter (
    filterID          smallint PRIMARY KEY,
    shortName         varchar(16) NOT NULL UNIQUE,      -- the FILTER header value
    name              varchar(32) NOT NULL DEFAULT 'NONE',
    description       varchar(256) NOT NULL DEFAULT 'NONE',
    centralWavelength real NOT NULL DEFAULT -0.9999995e9,
    isNarrowBand      boolean NOT NULL DEFAULT false
);

INSERT INTO Filter (filterID, shortName, name, description, centralWavelength, isNarrowBand) VALUES
    (1, 'Z', 'Z', 'WFCAM Z', 0.88, false),
    (2, 'Y', 'Y', 'WFCAM Y', 1.03, false),
    (3, 'J', 'J', 'WFCAM J', 1.25, false),
    (4, 'H', 'H', 'WFCAM H', 1.63, false),
    (5, 'K', 'K', 'WFCAM K', 2.20, false),
    (6, 'H2', 'H2', 'WFCAM H2 1-0 S(1)', 2.12, true),
    (7, 'Br', 'Br', 'WFCAM Brackett gamma', 2.17, true),
    (8, 'blank', 'blank', 'blank (dark frames)', -0.9999995e9, false);

-- Survey programmes (WSA programmeIDs) and the null-default row for frames of no survey.
CREATE TABLE Programme (
    programmeID     integer PRIMARY KEY,
    name            varchar(16) NOT NULL UNIQUE,        -- acronym: LAS, GPS, ...
    title           varchar(128) NOT NULL DEFAULT 'NONE',
    dfsIDString     varchar(64) NOT NULL UNIQUE,        -- the PROJECT header value
    detectionTable  varchar(64) NOT NULL DEFAULT 'NONE'
);

INSERT INTO Programme (programmeID, name, title, dfsIDString, detectionTable) VALUES
    (-99999999, 'NONE', 'No survey programme', 'NONE', 'NONE'),
    (101, 'LAS', 'UKIDSS Large Area Survey', 'U/UKIDSS/LAS', 'lasDetection'),
    (102, 'GPS', 'UKIDSS Galactic Plane Survey', 'U/UKIDSS/GPS', 'gpsDetection'),
    (103, 'GCS', 'UKIDSS Galactic Clusters Survey', 'U/UKIDSS/GCS', 'gcsDetection'),
    (104, 'DXS', 'UKIDSS Deep Extragalactic Survey', 'U/UKIDSS/DXS', 'dxsDetection'),
    (105, 'UDS', 'UKIDSS Ultra Deep Survey', 'U/UKIDSS/UDS', 'udsDetection');

-- Passband prescription of each programme: which filters, and how many epochs in each
-- (1 everywhere until a survey plan asks for more).
CREATE TABLE RequiredFilters (
    programmeID integer NOT NULL REFERENCES Programme,
    filterID    smallint NOT NULL REFERENCES Filter,
    nPass       smallint NOT NULL DEFAULT 1,
    isSynoptic  boolean NOT NULL DEFAULT false,
    PRIMARY KEY (programmeID, filterID)
);

INSERT INTO RequiredFilters (programmeID, filterID, nPass, isSynoptic) VALUES
    (101, 2, 1, false), (101, 3, 1, false), (101, 4, 1, false), (101, 5, 1, false),
    (102, 3, 1, false), (102, 4, 1, false), (102, 5, 1, false), (102, 6, 1, false),
    (103, 1, 1, false), (103, 2, 1, false), (103, 3, 1, false), (103, 4, 1, false), (103, 5, 1, false),
    (104, 3, 1, false), (104, 5, 1, false),
    (105, 3, 1, false), (105, 4, 1, false), (105, 5, 1, false);

-- The curation use cases (seed 004).
CREATE TABLE CurationTask (
    cuID        smallint PRIMARY KEY,
    name        varchar(16) NOT NULL UNIQUE,
    description varchar(256) NOT NULL
);

INSERT INTO CurationTask (cuID, name, description) VALUES
    (1, 'CU1', 'Obtain science data from CASU'),
    (2, 'CU2', 'Create library compressed image frame products'),
    (3, 'CU3', 'Ingest details of image products'),
    (4, 'CU4', 'Ingest single frame source detections'),
    (5, 'CU5', 'Create library H2-K difference image frame products'),
    (6, 'CU6', 'Create spatial index attributes'),
    (7, 'CU7', 'Recalibrate photometry'),
    (8, 'CU8', 'Create/update merged source catalogues'),
    (9, 'CU9', 'Produce list measurements between WFCAM passbands'),
    (10, 'CU10', 'Compute/update proper motions'),
    (11, 'CU11', 'Recalibrate astrometry'),
    (12, 'CU12', 'Get external catalogues'),
    (13, 'CU13', 'Create library stacked/mosaiced image frame products'),
    (14, 'CU14', 'Create standard source detection list for new stack/mosaic'),
    (15, 'CU15', 'Run periodic curation tasks CU6 to CU9'),
    (16, 'CU16', 'Create default joins with external catalogues'),
    (17, 'CU17', 'Produce list driven measurements between WFCAM/non-WFCAM data'),
    (18, 'CU18', 'Create/recreate table indices'),
    (19, 'CU19', 'Verify, freeze, and backup'),
    (20, 'CU20', 'Release online new database product');

-- Which curation tasks each programme needs, in what order (filled by the curation migrations).
CREATE TABLE RequiredCurationTask (
    programmeID integer NOT NULL REFERENCES Programme,
    cuID        smallint NOT NULL REFERENCES CurationTask,
    taskOrder   smallint NOT NULL,
    PRIMARY KEY (programmeID, cuID)
);

-- Every curation run (cuEventID is the run id every written row carries).
CREATE TABLE ProgrammeCurationHistory (
    cuEventID     integer GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
    cuID          smallint NOT NULL REFERENCES CurationTask,
    programmeID   integer NOT NULL DEFAULT -99999999 REFERENCES Programme,
    status        varchar(16) NOT NULL DEFAULT 'started'
                  CHECK (status IN ('started', 'succeeded', 'failed')),
    startedAt     timestamptz NOT NULL DEFAULT now(),
    endedAt       timestamptz,                           -- NULL while running
    hostName      varchar(256) NOT NULL DEFAULT 'NONE',
    version       varchar(32) NOT NULL DEFAULT 'NONE',   -- software version
    arguments     text NOT NULL DEFAULT '',
    errorText     text NOT NULL DEFAULT '',
    resumeOf      integer REFERENCES ProgrammeCurationHistory (cuEventID),
    CHECK ((status = 'started') = (endedAt IS NULL))
);

CREATE INDEX programmecurationhistory_cu ON ProgrammeCurationHistory (cuID, programmeID, startedAt);

-- The write lease: one row; holder NULL means free. fencingToken only grows (a trigger refuses
-- a decrease), so a write carrying an old token can be refused inside its own transaction.
CREATE TABLE CurationLock (
    lockID        smallint PRIMARY KEY DEFAULT 1 CHECK (lockID = 1),
    holder        varchar(256),
    fencingToken  bigint NOT NULL DEFAULT 0 CHECK (fencingToken >= 0),
    cuEventID     integer,
    grantedAt     timestamptz,
    heartbeatAt   timestamptz,
    expiresAt     timestamptz,
    CHECK ((holder IS NULL) = (expiresAt IS NULL))
);

INSERT INTO CurationLock (lockID) VALUES (1);

CREATE FUNCTION curationlock_guard() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        RAISE EXCEPTION 'the CurationLock row cannot be deleted';
    END IF;
    IF NEW.fencingToken < OLD.fencingToken THEN
        RAISE EXCEPTION 'fencing token cannot go down (from % to %)', OLD.fencingToken, NEW.fencingToken;
    END IF;
    RETURN NEW;
END
$$;

CREATE TRIGGER curationlock_guard BEFORE UPDATE OR DELETE ON CurationLock
    FOR EACH ROW EXECUTE FUNCTION curationlock_guard();

-- Files fetched from CASU (CU1), the input of CU2-CU4.
CREATE TABLE TransferLog (
    transferID    bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
    fileName      varchar(512) NOT NULL,                 -- path in the archive file system
    sourcePath    varchar(512) NOT NULL DEFAULT 'NONE',  -- path in the delivery area
    fileType      varchar(16) NOT NULL DEFAULT 'NONE'
                  CHECK (fileType IN ('image', 'catalogue', 'conf', 'NONE')),
    programmeID   integer NOT NULL DEFAULT -99999999 REFERENCES Programme,
    fileSize      bigint NOT NULL DEFAULT -99999999,     -- bytes
    checksum      varchar(64) NOT NULL DEFAULT 'NONE',   -- SHA-256, hex
    transferredAt timestamptz NOT NULL DEFAULT now(),
    cuEventID     integer NOT NULL,
    UNIQUE (fileName, checksum)
);

-- Transaction files already loaded: the checksum key makes a repeated load a no-op.
CREATE TABLE LoadLedger (
    checksum    varchar(64) PRIMARY KEY,                 -- SHA-256 of the transaction file, hex
    tableName   varchar(64) NOT NULL,
    rowsLoaded  bigint NOT NULL,
    fileName    varchar(512) NOT NULL DEFAULT 'NONE',
    cuEventID   integer NOT NULL,
    loadedAt    timestamptz NOT NULL DEFAULT now()
);

-- Files set aside as bad input, and why.
CREATE TABLE Quarantine (
    quarantineID   bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
    fileName       varchar(512) NOT NULL,
    movedTo        varchar(512) NOT NULL DEFAULT 'NONE',
    reason         text NOT NULL,
    cuEventID      integer NOT NULL,
    quarantinedAt  timestamptz NOT NULL DEFAULT now()
);

CREATE INDEX quarantine_filename ON Quarantine (fileName);

-- One row per FITS file (image, stack, mosaic, difference image or confidence map).
CREATE TABLE Multiframe (
    multiframeID  bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
    fileName      varchar(512) NOT NULL,                 -- path in the archive file system
    version       integer NOT NULL DEFAULT 1,            -- reprocessed deliveries get a new version
    catName       varchar(512) NOT NULL DEFAULT 'NONE',  -- its CASU catalogue
    fileTimeStamp bigint NOT NULL DEFAULT -99999999,     -- yyyymmddhhmmss of the delivery
    frameType     varchar(16) NOT NULL
                  CHECK (frameType IN ('normal', 'stack', 'mosaic', 'diff', 'conf')),
    programmeID   integer NOT NULL DEFAULT -99999999 REFERENCES Programme,
    project       varchar(64) NOT NULL DEFAULT 'NONE',   -- PROJECT
    msbID         varchar(64) NOT NULL DEFAULT 'NONE',   -- MSBID
    obsNum        integer NOT NULL DEFAULT -99999999,    -- OBSNUM
    filterID      smallint NOT NULL REFERENCES Filter,
    filterName    varchar(16) NOT NULL DEFAULT 'NONE',   -- FILTER
    mjdObs        double precision NOT NULL DEFAULT -0.9999995e9,  -- MJD-OBS (days)
    expTime       real NOT NULL DEFAULT -0.9999995e9,    -- EXP_TIME (seconds)
    amStart       real NOT NULL DEFAULT -0.9999995e9,    -- AMSTART (airmass)
    amEnd         real NOT NULL DEFAULT -0.9999995e9,    -- AMEND
    raBase        double precision NOT NULL DEFAULT -0.9999995e9,  -- RABASE (hours)
    decBase       double precision NOT NULL DEFAULT -0.9999995e9,  -- DECBASE (degrees)
    casuVers      varchar(64) NOT NULL DEFAULT 'NONE',   -- CASU pipeline version
    confID        bigint NOT NULL DEFAULT -99999999,     -- multiframeID of its confidence map
    fileSize      bigint NOT NULL DEFAULT -99999999,     -- bytes
    checksum      varchar(64) NOT NULL DEFAULT 'NONE',   -- SHA-256 of the file, hex
    deprecated    smallint NOT NULL DEFAULT 0,           -- 0 current; non-zero says why not
    cuEventID     integer NOT NULL,
    UNIQUE (fileName, version)
);

CREATE INDEX multiframe_programme ON Multiframe (programmeID, filterID, mjdObs);
CREATE INDEX multiframe_conf ON Multiframe (confID);

-- One row per image extension (detector).
CREATE TABLE MultiframeDetector (
    multiframeID    bigint NOT NULL REFERENCES Multiframe ON DELETE CASCADE,
    extNum          smallint NOT NULL,
    camNum          smallint NOT NULL DEFAULT -9999,      -- CAMNUM
    deviceID        varchar(32) NOT NULL DEFAULT 'NONE',  -- DETECTID
    julianDayNum    integer NOT NULL DEFAULT -99999999,   -- from UTDATE
    bitsPerPix      smallint NOT NULL DEFAULT -9999,      -- BITPIX
    axis1Length     integer NOT NULL DEFAULT -99999999,   -- (Z)NAXIS1
    axis2Length     integer NOT NULL DEFAULT -99999999,   -- (Z)NAXIS2
    seeing          real NOT NULL DEFAULT -0.9999995e9,   -- SEEING (pixels)
    avStellarEll    real NOT NULL DEFAULT -0.9999995e9,   -- ELLIPTIC
    skyLevel        real NOT NULL DEFAULT -0.9999995e9,   -- SKYLEVEL (ADU)
    skyNoise        real NOT NULL DEFAULT -0.9999995e9,   -- SKYNOISE (ADU)
    photZPCat       real NOT NULL DEFAULT -0.9999995e9,   -- MAGZPT (mag)
    photZPErrCat    real NOT NULL DEFAULT -0.9999995e9,   -- MAGZRR
    numZPCat        integer NOT NULL DEFAULT -99999999,   -- NUMZPT
    photZP          real NOT NULL DEFAULT -0.9999995e9,   -- archive zero point (recalibrated)
    photZPErr       real NOT NULL DEFAULT -0.9999995e9,
    zpVersion       smallint NOT NULL DEFAULT 0,          -- 0: CASU's; bumped by recalibration
    extinctionCat   real NOT NULL DEFAULT -0.9999995e9,   -- EXTINCT (mag per airmass)
    aperCorPeak     real NOT NULL DEFAULT -0.9999995e9,   -- APCORPK
    aperCor1        real NOT NULL DEFAULT -0.9999995e9,   -- APCOR1..7 (mag)
    aperCor2        real NOT NULL DEFAULT -0.9999995e9,
    aperCor3        real NOT NULL DEFAULT -0.9999995e9,
    aperCor4        real NOT NULL DEFAULT -0.9999995e9,
    aperCor5        real NOT NULL DEFAULT -0.9999995e9,
    aperCor6        real NOT NULL DEFAULT -0.9999995e9,
    aperCor7        real NOT NULL DEFAULT -0.9999995e9,
    tableRows       integer NOT NULL DEFAULT -99999999,   -- catalogue rows of this extension
    totalExpTime    real NOT NULL DEFAULT -0.9999995e9,   -- seconds
    raCorner1       double precision NOT NULL DEFAULT -0.9999995e9,  -- footprint corners (degrees):
    decCorner1      double precision NOT NULL DEFAULT -0.9999995e9,  -- pixel (1,1), (nx,1),
    raCorner2       double precision NOT NULL DEFAULT -0.9999995e9,  -- (nx,ny), (1,ny)
    decCorner2      double precision NOT NULL DEFAULT -0.9999995e9,
    raCorner3       double precision NOT NULL DEFAULT -0.9999995e9,
    decCorner3      double precision NOT NULL DEFAULT -0.9999995e9,
    raCorner4       double precision NOT NULL DEFAULT -0.9999995e9,
    decCorner4      double precision NOT NULL DEFAULT -0.9999995e9,
    compFile        varchar(512) NOT NULL DEFAULT 'NONE', -- JPEG of this extension (CU2)
    deprecated      smallint NOT NULL DEFAULT 0,
    cuEventID       integer NOT NULL,
    PRIMARY KEY (multiframeID, extNum)
);

-- The WCS of each image extension (ZPN for WFCAM) and the sky area it covers.
CREATE TABLE CurrentAstrometry (
    multiframeID  bigint NOT NULL,
    extNum        smallint NOT NULL,
    ctypeX        varchar(16) NOT NULL DEFAULT 'NONE',    -- CTYPE1
    ctypeY        varchar(16) NOT NULL DEFAULT 'NONE',    -- CTYPE2
    crValX        double precision NOT NULL DEFAULT -0.9999995e9,  -- CRVAL1 (degrees)
    crValY        double precision NOT NULL DEFAULT -0.9999995e9,  -- CRVAL2 (degrees)
    crPixX        double precision NOT NULL DEFAULT -0.9999995e9,  -- CRPIX1 (pixels)
    crPixY        double precision NOT NULL DEFAULT -0.9999995e9,  -- CRPIX2
    cd11          double precision NOT NULL DEFAULT -0.9999995e9,  -- CD1_1 (degrees/pixel)
    cd12          double precision NOT NULL DEFAULT -0.9999995e9,
    cd21          double precision NOT NULL DEFAULT -0.9999995e9,
    cd22          double precision NOT NULL DEFAULT -0.9999995e9,
    pv21          double precision NOT NULL DEFAULT -0.9999995e9,  -- PV2_1 (ZPN terms)
    pv22          double precision NOT NULL DEFAULT -0.9999995e9,
    pv23          double precision NOT NULL DEFAULT -0.9999995e9,
    numRms        integer NOT NULL DEFAULT -99999999,    -- NUMBRMS
    stdCRms       real NOT NULL DEFAULT -0.9999995e9,    -- STDCRMS (arcsec)
    centralRa     double precision NOT NULL DEFAULT -0.9999995e9,  -- degrees
    centralDec    double precision NOT NULL DEFAULT -0.9999995e9,  -- degrees
    minRa         double precision NOT NULL DEFAULT -0.9999995e9,
    maxRa         double precision NOT NULL DEFAULT -0.9999995e9,
    minDec        double precision NOT NULL DEFAULT -0.9999995e9,
    maxDec        double precision NOT NULL DEFAULT -0.9999995e9,
    xPixSize      real NOT NULL DEFAULT -0.9999995e9,    -- arcsec
    yPixSize      real NOT NULL DEFAULT -0.9999995e9,    -- arcsec
    cuEventID     integer NOT NULL,
    PRIMARY KEY (multiframeID, extNum),
    FOREIGN KEY (multiframeID, extNum) REFERENCES MultiframeDetector ON DELETE CASCADE
);

CREATE INDEX currentastrometry_q3c ON CurrentAstrometry (q3c_ang2ipix(centralRa, centralDec));

-- Single-frame detections, one table per programme (no foreign keys: they would slow the
-- bulk loads; CU4 loads a catalogue together with its Multiframe rows).
CREATE TABLE lasDetection (
    multiframeID  bigint NOT NULL,  -- the image the detection was found on (Multiframe)
    extNum        smallint NOT NULL,  -- extension (detector) number
    seqNum        integer NOT NULL,  -- catalogue row (Sequence_number)
    filterID      smallint NOT NULL,  -- Filter
    x             real NOT NULL DEFAULT -0.9999995e9,  -- pixels
    xErr          real NOT NULL DEFAULT -0.9999995e9,
    y             real NOT NULL DEFAULT -0.9999995e9,
    yErr          real NOT NULL DEFAULT -0.9999995e9,
    ra            double precision NOT NULL DEFAULT -0.9999995e9,  -- degrees (J2000), from x, y and the header WCS
    dec           double precision NOT NULL DEFAULT -0.9999995e9,  -- degrees (J2000), from x, y and the header WCS
    gausig        real NOT NULL DEFAULT -0.9999995e9,  -- Gaussian_sigma (pixels)
    ell           real NOT NULL DEFAULT -0.9999995e9,  -- Ellipticity
    pa            real NOT NULL DEFAULT -0.9999995e9,  -- Position_angle (degrees)
    areal1        real NOT NULL DEFAULT -0.9999995e9,  -- Areal_n_profile (pixels)
    areal2        real NOT NULL DEFAULT -0.9999995e9,
    areal3        real NOT NULL DEFAULT -0.9999995e9,
    areal4        real NOT NULL DEFAULT -0.9999995e9,
    areal5        real NOT NULL DEFAULT -0.9999995e9,
    areal6        real NOT NULL DEFAULT -0.9999995e9,
    areal7        real NOT NULL DEFAULT -0.9999995e9,
    areal8        real NOT NULL DEFAULT -0.9999995e9,
    pHeight       real NOT NULL DEFAULT -0.9999995e9,  -- Peak_height (ADU)
    pHeightErr    real NOT NULL DEFAULT -0.9999995e9,
    isoFlux       real NOT NULL DEFAULT -0.9999995e9,  -- Isophotal_flux (ADU)
    isoFluxErr    real NOT NULL DEFAULT -0.9999995e9,
    isoMag        real NOT NULL DEFAULT -0.9999995e9,  -- magnitudes
    isoMagErr     real NOT NULL DEFAULT -0.9999995e9,
    aperFlux1     real NOT NULL DEFAULT -0.9999995e9,  -- Aper_flux_N (ADU)
    aperFlux1Err  real NOT NULL DEFAULT -0.9999995e9,
    aperFlux2     real NOT NULL DEFAULT -0.9999995e9,
    aperFlux2Err  real NOT NULL DEFAULT -0.9999995e9,
    aperFlux3     real NOT NULL DEFAULT -0.9999995e9,
    aperFlux3Err  real NOT NULL DEFAULT -0.9999995e9,
    aperFlux4     real NOT NULL DEFAULT -0.9999995e9,
    aperFlux4Err  real NOT NULL DEFAULT -0.9999995e9,
    aperFlux5     real NOT NULL DEFAULT -0.9999995e9,
    aperFlux5Err  real NOT NULL DEFAULT -0.9999995e9,
    aperFlux6     real NOT NULL DEFAULT -0.9999995e9,
    aperFlux6Err  real NOT NULL DEFAULT -0.9999995e9,
    aperFlux7     real NOT NULL DEFAULT -0.9999995e9,
    aperFlux7Err  real NOT NULL DEFAULT -0.9999995e9,
    aperFlux8     real NOT NULL DEFAULT -0.9999995e9,
    aperFlux8Err  real NOT NULL DEFAULT -0.9999995e9,
    aperFlux9     real NOT NULL DEFAULT -0.9999995e9,
    aperFlux9Err  real NOT NULL DEFAULT -0.9999995e9,
    aperFlux10    real NOT NULL DEFAULT -0.9999995e9,
    aperFlux10Err real NOT NULL DEFAULT -0.9999995e9,
    aperFlux11    real NOT NULL DEFAULT -0.9999995e9,
    aperFlux11Err real NOT NULL DEFAULT -0.9999995e9,
    aperFlux12    real NOT NULL DEFAULT -0.9999995e9,
    aperFlux12Err real NOT NULL DEFAULT -0.9999995e9,
    aperFlux13    real NOT NULL DEFAULT -0.9999995e9,
    aperFlux13Err real NOT NULL DEFAULT -0.9999995e9,
    aperMag1      real NOT NULL DEFAULT -0.9999995e9,  -- calibrated magnitude in aperture N
    aperMag1Err   real NOT NULL DEFAULT -0.9999995e9,
    aperMag2      real NOT NULL DEFAULT -0.9999995e9,
    aperMag2Err   real NOT NULL DEFAULT -0.9999995e9,
    aperMag3      real NOT NULL DEFAULT -0.9999995e9,
    aperMag3Err   real NOT NULL DEFAULT -0.9999995e9,
    aperMag4      real NOT NULL DEFAULT -0.9999995e9,
    aperMag4Err   real NOT NULL DEFAULT -0.9999995e9,
    aperMag5      real NOT NULL DEFAULT -0.9999995e9,
    aperMag5Err   real NOT NULL DEFAULT -0.9999995e9,
    aperMag6      real NOT NULL DEFAULT -0.9999995e9,
    aperMag6Err   real NOT NULL DEFAULT -0.9999995e9,
    aperMag7      real NOT NULL DEFAULT -0.9999995e9,
    aperMag7Err   real NOT NULL DEFAULT -0.9999995e9,
    aperMag8      real NOT NULL DEFAULT -0.9999995e9,
    aperMag8Err   real NOT NULL DEFAULT -0.9999995e9,
    aperMag9      real NOT NULL DEFAULT -0.9999995e9,
    aperMag9Err   real NOT NULL DEFAULT -0.9999995e9,
    aperMag10     real NOT NULL DEFAULT -0.9999995e9,
    aperMag10Err  real NOT NULL DEFAULT -0.9999995e9,
    aperMag11     real NOT NULL DEFAULT -0.9999995e9,
    aperMag11Err  real NOT NULL DEFAULT -0.9999995e9,
    aperMag12     real NOT NULL DEFAULT -0.9999995e9,
    aperMag12Err  real NOT NULL DEFAULT -0.9999995e9,
    aperMag13     real NOT NULL DEFAULT -0.9999995e9,
    aperMag13Err  real NOT NULL DEFAULT -0.9999995e9,
    petroRad      real NOT NULL DEFAULT -0.9999995e9,  -- Petrosian radius (pixels)
    petroFlux     real NOT NULL DEFAULT -0.9999995e9,
    petroFluxErr  real NOT NULL DEFAULT -0.9999995e9,
    petroMag      real NOT NULL DEFAULT -0.9999995e9,
    petroMagErr   real NOT NULL DEFAULT -0.9999995e9,
    kronRad       real NOT NULL DEFAULT -0.9999995e9,  -- Kron radius (pixels)
    kronFlux      real NOT NULL DEFAULT -0.9999995e9,
    kronFluxErr   real NOT NULL DEFAULT -0.9999995e9,
    kronMag       real NOT NULL DEFAULT -0.9999995e9,
    kronMagErr    real NOT NULL DEFAULT -0.9999995e9,
    hallRad       real NOT NULL DEFAULT -0.9999995e9,  -- Hall radius (pixels)
    hallFlux      real NOT NULL DEFAULT -0.9999995e9,
    hallFluxErr   real NOT NULL DEFAULT -0.9999995e9,
    hallMag       real NOT NULL DEFAULT -0.9999995e9,
    hallMagErr    real NOT NULL DEFAULT -0.9999995e9,
    errBits       integer NOT NULL DEFAULT 0,  -- Error_bit_flag
    averageConf   real NOT NULL DEFAULT -0.9999995e9,  -- average confidence (column 58)
    sky           real NOT NULL DEFAULT -0.9999995e9,  -- Sky_level (ADU)
    skyVar        real NOT NULL DEFAULT -0.9999995e9,  -- Sky_rms (ADU)
    class         smallint NOT NULL DEFAULT -9999,  -- Classification: 1 galaxy, -1 star, -2 probable star, -3 probable galaxy, 0 noise, -9 saturated
    classStat     real NOT NULL DEFAULT -0.9999995e9,  -- Statistic
    ppErrBits     integer NOT NULL DEFAULT 0,  -- WSA post-processing quality flags
    objID         bigint NOT NULL DEFAULT -99999999,  -- unique object identifier
    cuEventID     integer NOT NULL,  -- the curation run that loaded the row
    PRIMARY KEY (multiframeID, extNum, seqNum)
);

CREATE INDEX lasdetection_q3c ON lasDetection (q3c_ang2ipix(ra, dec));

CREATE TABLE gpsDetection (LIKE lasDetection INCLUDING ALL);
CREATE TABLE gcsDetection (LIKE lasDetection INCLUDING ALL);
CREATE TABLE dxsDetection (LIKE lasDetection INCLUDING ALL);
CREATE TABLE udsDetection (LIKE lasDetection INCLUDING ALL);
