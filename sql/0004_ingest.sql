-- 0004_ingest: what CU1-CU4 record besides the image and detection rows.
--
-- * A delivered file is known by its name (deliveredName: CASU names are unique, they carry the
--   night and run number), wherever it was delivered (sourcePath "night/name": a reprocessed
--   night comes as YYYYMMDD_v2). The same name with new content is a new version: TransferLog
--   keeps every version, the older ones marked deprecated; the archive keeps each version
--   under its own path. The COMPLETE marker of a night is known as "night/COMPLETE".
-- * Quarantine remembers where a file came from and its checksum, so a re-run does not set the
--   same file aside twice, and which CU found the problem.
-- * CompressedImage: the JPEGs CU2 made for each image extension of a transferred file.
-- * CatalogueIngest: which frames' catalogues CU4 loaded (a catalogue of no rows is ingested too).
-- Deprecation codes (Multiframe, MultiframeDetector, TransferLog): 0 current, 1 superseded by a
-- newer version of the same file.

ALTER TABLE TransferLog
    ADD COLUMN deliveredName varchar(256) NOT NULL DEFAULT 'NONE',
    ADD COLUMN version     integer NOT NULL DEFAULT 1,
    ADD COLUMN deprecated  smallint NOT NULL DEFAULT 0;

ALTER TABLE TransferLog DROP CONSTRAINT transferlog_filetype_check,
    ADD CONSTRAINT transferlog_filetype_check
    CHECK (fileType IN ('image', 'catalogue', 'conf', 'marker', 'NONE'));

CREATE UNIQUE INDEX transferlog_name_version ON TransferLog (deliveredName, version);
CREATE INDEX transferlog_sourcepath ON TransferLog (sourcePath);
CREATE UNIQUE INDEX transferlog_filename ON TransferLog (fileName);

ALTER TABLE Quarantine
    ADD COLUMN sourcePath  varchar(512) NOT NULL DEFAULT 'NONE',
    ADD COLUMN checksum    varchar(64) NOT NULL DEFAULT 'NONE',
    ADD COLUMN cuID        smallint NOT NULL DEFAULT -9999,
    ADD COLUMN programmeID integer NOT NULL DEFAULT -99999999;

CREATE UNIQUE INDEX quarantine_file_checksum ON Quarantine (fileName, checksum);
CREATE INDEX quarantine_checksum ON Quarantine (checksum);

CREATE TABLE CompressedImage (
    transferID  bigint NOT NULL REFERENCES TransferLog,
    extNum      smallint NOT NULL,                     -- HDU number, primary = 1
    compFile    varchar(512) NOT NULL,                 -- the JPEG, north up
    thumbFile   varchar(512) NOT NULL DEFAULT 'NONE',  -- its thumbnail
    width       integer NOT NULL DEFAULT -99999999,    -- pixels
    height      integer NOT NULL DEFAULT -99999999,
    cuEventID   integer NOT NULL,
    PRIMARY KEY (transferID, extNum)
);

CREATE TABLE CatalogueIngest (
    multiframeID bigint PRIMARY KEY REFERENCES Multiframe,
    catName      varchar(512) NOT NULL,
    detectionTable varchar(64) NOT NULL,
    rowsLoaded   bigint NOT NULL,
    cuEventID    integer NOT NULL
);

CREATE INDEX multiframe_filename ON Multiframe (fileName);
CREATE INDEX multiframe_catname ON Multiframe (catName);

-- Which CUs each programme needs, in order (seed 004: CU1-CU4 for every survey).
INSERT INTO RequiredCurationTask (programmeID, cuID, taskOrder)
SELECT p.programmeID, t.cuID, t.cuID FROM Programme p CROSS JOIN CurationTask t
WHERE p.programmeID > 0 AND t.cuID BETWEEN 1 AND 4
ON CONFLICT DO NOTHING;

GRANT SELECT ON CompressedImage, CatalogueIngest TO wsa_reader;
